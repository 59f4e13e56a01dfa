"""Study benchmarks, each two things in one run:

* the exact Wilcoxon signed-rank p-value over tied ranks (study.stats.wilcoxon_p)
  against scipy's permutation method on the same gains (same p, time ratio);
* one answer through the runner (state derived from the logs, scored, committed in
  its own transaction) against a bare INSERT into the same log, on a real file.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps


def _wilcoxon() -> None:
    from conceptcoach.study.stats import wilcoxon_p

    rng = np.random.default_rng(0)
    samples = [rng.integers(-2, 5, size=13) / 4 for _ in range(6)]  # 13 units of quarter gains, as in the paper
    t0 = time.perf_counter()
    ours = [wilcoxon_p(d) for d in samples]
    t1 = time.perf_counter()
    ref = [sps.wilcoxon(d, method=sps.PermutationMethod(n_resamples=10**6)).pvalue for d in samples]
    t2 = time.perf_counter()
    worst = max(abs(a - b) for a, b in zip(ours, ref, strict=True) if a is not None)
    print(f"bench: wilcoxon_exact_ms = {1000 * (t1 - t0) / len(samples):.2f}")
    print(f"bench: wilcoxon_scipy_permutation_ms = {1000 * (t2 - t1) / len(samples):.2f}")
    print(f"bench: wilcoxon_speedup = {(t2 - t1) / (t1 - t0):.1f}")
    print(f"bench: wilcoxon_max_p_difference = {worst:.2e}")


def _answers() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conceptcoach.store.db import open_store
    from conceptcoach.store.players import add_player
    from conceptcoach.study.plan import PlanSpec, create_sessions
    from conceptcoach.study.runner import answer, session_state
    from test_study_library import build_library

    with tempfile.TemporaryDirectory() as tmp:
        db = open_store(Path(tmp) / "bench.sqlite")
        ids = build_library(db, concepts=4, per_concept=24, failed=0)
        p = add_player(db, "Bench")
        sid = create_sessions(db, PlanSpec([p.id], ids, per_phase=12, learning_per_concept=0, seed=1)).session_ids[0]
        n = 0
        t0 = time.perf_counter()
        while (st := session_state(db, sid)).current is not None:
            answer(db, sid, st.current.id, st.current.expected[0], response_ms=1000)
            n += 1
        t1 = time.perf_counter()
        conn = db.conn
        for _ in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO attempts (session_id, player_id, phase, fen, expected, answer_uci, answer_san,"
                         " correct) VALUES (?, ?, 'pre', '8/8/8/8/8/8/8/8 w - - 0 1', 'a1a2', 'a1a2', 'Ra2', 1)",
                         (sid, p.id))
            conn.execute("COMMIT")
        t2 = time.perf_counter()
        db.conn.close()
    print(f"bench: study_answer_ms = {1000 * (t1 - t0) / n:.2f}")
    print(f"bench: bare_insert_ms = {1000 * (t2 - t1) / n:.2f}")
    print(f"bench: answer_over_insert = {(t1 - t0) / (t2 - t1):.1f}")


def main() -> None:
    _wilcoxon()
    _answers()


if __name__ == "__main__":
    main()
