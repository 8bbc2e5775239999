"""The sync pipeline, in the order a run goes through it.

    lifecycle  queue a run (one per school), review, the one way a run ends, the stale-run sweep
    queries    which runs exist: the active one, the latest, the last complete, one by id
    liveness   the worker's heartbeat in Redis, and the judgement that a run's worker is gone
    run        run_sync: the job's body (fetch everything, decide, apply or stop for review)
    fetch      a group's transitive user members from Graph, page by page
    diff       the rules: one person's fate, and a whole Plan (pure, no database)
    apply      writing a Plan in one transaction; store: the bulk reads and writes it uses
    record     a run's changes as history rows, and a reviewed run's plan read back
    prior      the before half of a run's change log: each person just before the run wrote
    one_person Sync this person now (person_lookup: the Graph reads; person_words: its words)
    undo       Undo this sync (undo_plan: may this run be undone, and what it would do)
"""
