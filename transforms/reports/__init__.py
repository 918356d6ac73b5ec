"""Reports: what COG reads, rendered from one `ReportInputs` value.

Owns `inputs` (the plain value the documents are rendered from), `context` (formatted
figures, tables, key messages), `charts` (run charts), `word` (the docxtpl report), `excel`
(the workbook) and `preview` (page images for reviewers).

May use: the kernel, `transforms.measures` and `transforms.store`. Never `intake`, flows or
Prefect.
"""
