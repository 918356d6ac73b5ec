"""Page images of the generated documents, for reviewers: `python -m transforms.reports.preview`.

Every .docx and .xlsx under DIR is converted to PDF by LibreOffice (headless, with a private
profile so a desktop session or a parallel run cannot interfere, and a timeout), then to PNG
pages by `pdftoppm`. Output goes to DIR/preview/<document>/page-N.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 180


def office_binary() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(document: Path, out_dir: Path, timeout: int = TIMEOUT_S) -> Path:
    """Convert one document to PDF in `out_dir`; raise with LibreOffice's output on failure."""
    binary = office_binary()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) is not on PATH")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ds-lo-profile-") as profile:
        proc = subprocess.run(
            [
                binary,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(document),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    pdf = out_dir / (document.stem + ".pdf")
    if proc.returncode != 0 or not pdf.exists():
        raise RuntimeError(
            f"LibreOffice failed on {document.name} (exit {proc.returncode}): "
            f"{proc.stdout.strip()} {proc.stderr.strip()}"
        )
    return pdf


def pdf_text(
    pdf: Path, first: int | None = None, last: int | None = None, layout: bool = False
) -> str:
    """The PDF's text (pdftotext; reading order, or the page layout when `layout`)."""
    cmd = ["pdftotext"] + (["-layout"] if layout else [])
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    proc = subprocess.run(
        [*cmd, str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    return proc.stdout


def to_pngs(pdf: Path, out_dir: Path, dpi: int = 80) -> list[Path]:
    """One PNG per page of `pdf` in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out_dir / "page")],
        check=True,
        timeout=TIMEOUT_S,
    )
    return sorted(out_dir.glob("page-*.png"))


def preview(folder: Path) -> list[Path]:
    """PNG pages for every document under `folder`; returns the page images."""
    pages: list[Path] = []
    docs = sorted(
        p
        for ext in ("*.docx", "*.xlsx")
        for p in folder.rglob(ext)
        if "preview" not in p.parts and not p.name.startswith((".", "~$"))
    )
    for doc in docs:
        target = folder / "preview" / f"{doc.stem}{doc.suffix.replace('.', '_')}"
        shutil.rmtree(target, ignore_errors=True)
        pdf = to_pdf(doc, target)
        pages += to_pngs(pdf, target)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder holding the generated documents")
    args = parser.parse_args(argv)
    pages = preview(args.folder)
    print(f"{len(pages)} page images under {args.folder / 'preview'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
