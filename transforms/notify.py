"""Reminders for returns not yet accepted, and e-mail when (and only when) SMTP is configured.

Plain Python: the chase flow and the approval step call these. A reminder says, per
submitter, whether the return is missing or rejected and, for a rejected one, how many errors
it had and the first few messages from the ledger's `findings` (messages only, never the
`value` column). Those messages go to the file and the e-mail a lead receives; what goes into
Prefect (artifacts) carries only the rule and location, because the server keeps it.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import os
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from transforms.atomic import atomic_write_text
from transforms.safe_text import csv_safe

log = logging.getLogger(__name__)

ACCEPTED_STATUSES = ("accepted", "accepted with warnings")
FIRST_MESSAGES = 3
REMINDER_COLUMNS = [
    "code",
    "name",
    "kind",
    "status",
    "due",
    "overdue",
    "late",
    "file",
    "errors",
    "problems",
    "locations",
    "contact",
]


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail goes. No host means e-mail is off (not an error)."""

    host: str
    port: int = 25
    sender: str = "datasummary@localhost"
    to: tuple[str, ...] = ()
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0
    contacts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig | None:
        """DATASUMMARY_SMTP_HOST/_PORT/_FROM/_TO/_USER/_PASSWORD/_STARTTLS, contacts file.

        `DATASUMMARY_CONTACTS` names a YAML file mapping submitter codes to one address or a
        list of addresses (leads then get their own reminder).
        """
        env = os.environ if env is None else env
        host = env.get("DATASUMMARY_SMTP_HOST", "").strip()
        if not host:
            return None
        contacts_file = env.get("DATASUMMARY_CONTACTS", "").strip()
        return cls(
            host=host,
            port=int(env.get("DATASUMMARY_SMTP_PORT", "25") or 25),
            sender=env.get("DATASUMMARY_SMTP_FROM", "").strip() or "datasummary@localhost",
            to=_addresses(env.get("DATASUMMARY_SMTP_TO", "")),
            user=env.get("DATASUMMARY_SMTP_USER") or None,
            password=env.get("DATASUMMARY_SMTP_PASSWORD") or None,
            starttls=env.get("DATASUMMARY_SMTP_STARTTLS", "").strip().lower()
            in ("1", "true", "yes"),
            contacts=load_contacts(Path(contacts_file)) if contacts_file else {},
        )


def _addresses(text: str | Iterable[str]) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(a.strip() for a in items if a and a.strip())


def load_contacts(path: Path) -> dict[str, tuple[str, ...]]:
    """Submitter code → addresses, from a YAML mapping (a value may be a string or a list)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of submitter code to e-mail address")
    return {
        str(k).strip().upper(): _addresses(v if isinstance(v, list) else str(v))
        for k, v in data.items()
    }


# ---------------------------------------------------------------- sending
def send_email(
    config: SmtpConfig, to: Iterable[str], subject: str, body: str, attachments: Iterable[Path] = ()
) -> None:
    """Send one plain-text message (with attachments) through the configured server."""
    recipients = list(to)
    if not recipients:
        return
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    for path in attachments:
        path = Path(path)
        ctype, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.user:
            smtp.login(config.user, config.password or "")
        smtp.send_message(msg)
    log.info("e-mail %r sent to %d recipient(s)", subject, len(recipients))


# ---------------------------------------------------------------- reminders
def reminder_frame(
    expected: pd.DataFrame,
    conn: sa.Connection | None,
    quarter_end: dt.date,
    contacts: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """The expected returns not yet accepted, with what is wrong with any rejected one.

    `expected` is `transforms.measures.returns_status.expected_returns(...)`: one row per submitter
    with code, name, kind, status, late, received_at, due_date, overdue (its `due_date`
    becomes the reminder's `due`).
    """
    contacts = contacts or {}
    pending = expected[~expected["status"].isin(ACCEPTED_STATUSES)]
    rows = []
    for r in pending.to_dict(orient="records"):
        problem = (
            rejected_problems(conn, r["code"], quarter_end)
            if r["status"] == "rejected" and conn is not None
            else None
        )
        rows.append(
            {
                "code": r["code"],
                "name": r.get("name"),
                "kind": r.get("kind"),
                "status": r["status"],
                "due": _as_date(r.get("due_date")),
                "overdue": _as_bool(r.get("overdue")),
                "late": _as_bool(r.get("late")),
                "file": problem["file"] if problem else None,
                "errors": problem["errors"] if problem else None,
                "problems": problem["messages"] if problem else [],
                "locations": problem["locations"] if problem else [],
                "contact": ", ".join(contacts.get(str(r["code"]).upper(), ())),
            }
        )
    frame = pd.DataFrame(rows, columns=REMINDER_COLUMNS)
    frame["errors"] = frame["errors"].astype("Int64")
    return frame.sort_values(["kind", "code"], kind="stable").reset_index(drop=True)


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _as_bool(value: Any) -> bool | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return bool(value)


def rejected_problems(
    conn: sa.Connection, code: str, quarter_end: dt.date, first: int = FIRST_MESSAGES
) -> dict[str, Any] | None:
    """The latest rejected file of a submitter's quarter: name, error count, first messages."""
    from transforms.store import ledger

    sub, fnd, files = ledger.submissions, ledger.findings, ledger.files
    latest = (
        conn.execute(
            sa.select(sub.c.sha256, sub.c.errors, files.c.original_name)
            .join(files, files.c.sha256 == sub.c.sha256)
            .where(
                sub.c.submitter == code,
                sub.c.quarter_end == quarter_end,
                sub.c.status == "rejected",
            )
            .order_by(sub.c.seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if latest is None:
        return None
    found = (
        conn.execute(
            sa.select(fnd.c.message, fnd.c.rule, fnd.c.sheet, fnd.c.cell, fnd.c.row)
            .where(fnd.c.sha256 == latest["sha256"], fnd.c.severity == "error")
            .order_by(fnd.c.id)
            .limit(first)
        )
        .mappings()
        .all()
    )
    return {
        "file": latest["original_name"],
        "errors": int(latest["errors"]),
        "messages": [f["message"] for f in found],
        "locations": [_location(f) for f in found],
    }


def _location(finding: Mapping[Any, Any]) -> str:
    """'rule at Sheet!B7' / 'rule at Sheet row 12' — where, never what."""
    where = finding["sheet"] or "workbook"
    if finding["cell"]:
        where += f"!{finding['cell']}"
    elif finding["row"] is not None:
        where += f" row {finding['row']}"
    return f"{finding['rule']} at {where}"


def _line(r: Mapping[Any, Any], *, with_messages: bool) -> list[str]:
    due = r["due"].isoformat() if r["due"] else "?"
    head = f"- **{r['code']}** ({r['name']}): {r['status']}, due {due}"
    if r["overdue"]:
        head += ", overdue"
    lines = [head]
    if r["status"] == "rejected" and r["errors"] is not None and not pd.isna(r["errors"]):
        lines.append(f"  - {r['file']}: {int(r['errors'])} error(s); first:")
        items = r["problems"] if with_messages else r["locations"]
        lines += [f"    - {m}" for m in items]
    return lines


def reminder_markdown(
    frame: pd.DataFrame, quarter_end: dt.date, today: dt.date, *, with_messages: bool = True
) -> str:
    """The reminder list as markdown, grouped by kind (data returns, then leads' updates).

    `with_messages=False` gives rule and location instead of messages (for Prefect).
    """
    from transforms.quarters import quarter_label

    lines = [
        f"# Returns outstanding — {quarter_label(quarter_end)}",
        "",
        f"As of {today.isoformat()}: {len(frame)} return(s) not yet accepted.",
        "",
    ]
    for kind, title in (("data", "Data returns"), ("lead", "Leads' progress updates")):
        part = frame[frame["kind"] == kind]
        if part.empty:
            continue
        lines += [f"## {title}", ""]
        for r in part.to_dict(orient="records"):
            lines += _line(r, with_messages=with_messages)
        lines.append("")
    other = frame[~frame["kind"].isin(["data", "lead"])]
    for r in other.to_dict(orient="records"):
        lines += _line(r, with_messages=with_messages)
    if frame.empty:
        lines.append("Every expected return has been accepted.")
    return "\n".join(lines).rstrip() + "\n"


def submitter_reminder_text(row: Mapping[Any, Any], quarter_end: dt.date) -> str:
    """The e-mail body one lead or agency receives about its own return."""
    from transforms.quarters import quarter_label

    due = row["due"].isoformat() if row["due"] else "the deadline"
    label = quarter_label(quarter_end)
    if row["status"] == "missing":
        text = (
            f"Dear colleague,\n\nWe have not yet received the {label} return from "
            f"{row['name']} ({row['code']}). It is due by {due}."
        )
    else:
        text = (
            f"Dear colleague,\n\nThe {label} return from {row['name']} ({row['code']}) "
            f"was received but rejected"
        )
        if row["errors"] is not None and not pd.isna(row["errors"]):
            text += f" ({int(row['errors'])} error(s) in {row['file']})"
        text += ". The first problems found were:\n"
        text += "".join(f"\n  - {m}" for m in row["problems"])
        text += (
            f"\n\nThe feedback file in the inbox lists every problem. Please correct "
            f"the workbook and send it again by {due}."
        )
    return text + "\n\nThank you,\nBusiness Intelligence Unit\n"


def write_reminders(
    frame: pd.DataFrame, out_dir: Path, quarter_end: dt.date, today: dt.date
) -> dict[str, Path]:
    """OUTPUT/reminders/<quarter-end>-<date>.md and .csv, each written atomically."""
    stem = f"{quarter_end.isoformat()}-{today.isoformat()}"
    md, csv = Path(out_dir) / f"{stem}.md", Path(out_dir) / f"{stem}.csv"
    atomic_write_text(md, reminder_markdown(frame, quarter_end, today))
    flat = frame.drop(columns=["locations"]).assign(
        problems=frame["problems"].map(lambda ms: " | ".join(ms))
    )
    atomic_write_text(csv, flat.map(csv_safe).to_csv(index=False))
    return {"markdown": md, "csv": csv}


def email_reminders(
    config: SmtpConfig | None, frame: pd.DataFrame, quarter_end: dt.date, today: dt.date
) -> int:
    """A digest to DATASUMMARY_SMTP_TO and one message per submitter with a contact.

    Returns the number of messages sent; 0 (and no error) when e-mail is not configured.
    """
    if config is None or frame.empty:
        return 0
    from transforms.quarters import quarter_short

    sent = 0
    subject = f"Data Summary {quarter_short(quarter_end)}: returns outstanding"
    if config.to:
        send_email(config, config.to, subject, reminder_markdown(frame, quarter_end, today))
        sent += 1
    for r in frame.to_dict(orient="records"):
        to = config.contacts.get(str(r["code"]).upper(), ())
        if to:
            send_email(
                config, to, f"{subject} — {r['code']}", submitter_reminder_text(r, quarter_end)
            )
            sent += 1
    return sent
