"""History of computed figures per run and of what each issued report showed.

(Owned by the measures work: runs, figures, issued reports, revisions.)
"""

from __future__ import annotations
