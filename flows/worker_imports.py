"""What a Dask worker of the national run imports before its first partnership.

`flows.workers` has this imported once in the fork server the local workers fork from,
so each worker starts with the libraries a partnership needs (GX, pandas, matplotlib, the
document writers, the intake and quarterly code) instead of importing them itself: once
for all workers, and while the flow is still setting up. Not Prefect: it reads its
settings (the API to report to) as it is imported, and each run may give its workers
another API, so a worker imports Prefect itself.
"""

from __future__ import annotations

import docx  # noqa: F401
import docxtpl  # noqa: F401
import openpyxl  # noqa: F401

import transforms.intake.filing  # noqa: F401
import transforms.quarterly  # noqa: F401
import transforms.store.history  # noqa: F401
from transforms.intake.validate import import_gx
from transforms.reports.charts import import_matplotlib

import_gx()
import_matplotlib()
