"""Measures: accepted data to figures, and figures to judgements against the plan.

Owns `figures` (one row per measure x quarter x breakdown, measures.md), `targets`
(trajectories, RAG, trends, run-chart signals, measures.csv), `milestones` (dated plan
milestones and action status), `disclosure` (statistical disclosure control for the public
pack) and `returns_status` (which returns came in: returns.csv, the expected-returns table).

May use: the kernel and `transforms.store`. Never `intake`, `reports`, flows or Prefect.
"""
