"""Study sessions and what they measure (METHOD.md section 7), headless.

The GUI, the CLI (``conceptcoach session ...``) and scripts share these modules;
every function takes the store and plain values and returns dataclasses:

* :mod:`.plan` -- ``PlanSpec`` (JSON round-trip, templates) and ``create_sessions``:
  disjoint prototypes per phase, no position met twice by a player, seeded order,
  control items;
* :mod:`.runner` -- ``session_state`` (derived from the append-only logs, so pause and
  resume need nothing else), ``answer``, ``mark_studied``, ``lesson``;
* :mod:`.scoring` -- correct / partial credit from the teacher's stored search;
* :mod:`.stats` -- gains per concept, player and session, bootstrap intervals,
  Wilcoxon and permutation tests, gain net of controls, from the attempt log alone;
* :mod:`.review` -- the FSRS review queue replayed from the attempt log.
"""
