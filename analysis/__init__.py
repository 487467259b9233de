"""Analyses across entries: cross-area links (synergies), recurring obstacles, goal
conflicts, near-duplicates, and the roadmap, policy and mandate views."""
