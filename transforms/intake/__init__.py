"""Intake: from a file dropped in the inbox to a filed, checked return and the lead's feedback.

Owns, in the order a file meets them: `arrival` (which inbox files are ready), `archive`
(content-addressed safe keeping), `preflight` (the bytes alone), reading (`cells`,
`sheet_readers`, `parse`), checking (`suites` for GX, `rules` for pandas, `validate` for both),
`feedback` (the lead's workbook and text), then filing: `receiving` (hash, archive, ledger),
`checking` (one path, in batches), `prior` (last quarter's data), `decision` (the pure status
decision), `ledgering` (a group filed in one transaction), `answers` (feedback files and
their ledgering), `results` and `intake_run` (typed records, a run's state) and `filing`
(`run_intake`, `run_intakes`). `templates` builds the blank return workbooks the leads fill in.

May use: the kernel (`transforms.spec`, `quarters`, `findings`, `catalogue`, `atomic`,
`resources`) and `transforms.store`. Never `measures`, `reports`, flows or Prefect.
"""
