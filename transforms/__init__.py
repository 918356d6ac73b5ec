"""The pipeline's work, in plain Python and pandas: no Prefect, no flows.

The data path, one package per stage:

    intake/   inbox file -> archive -> pre-flight -> read -> check -> feedback -> filing
    store/    the ledger, accepted return data, history of figures (SQLite or PostgreSQL)
    measures/ figures, targets, RAG, trends, milestones, disclosure control
    reports/  the Word report, the Excel workbook, charts, the public pack

The small shared kernel every stage may use: `spec` (the plan, return specification and
measures, loaded from the YAML data), `resources` (where that data lives), `quarters`,
`findings` and `catalogue` (the result model and rule catalogue), `atomic` (safe writes).
Above the stages: `quarterly` (a quarter's outputs, from store to documents), `notify`
(reminders and e-mail), `schedule`, `partnerships`; `sample/` makes synthetic returns.

The import rules are enforced by import-linter (`[tool.importlinter]` in pyproject.toml).
"""
