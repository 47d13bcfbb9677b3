"""The Jinja2 environment for the world's HTML and XML templates."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tracker.world.content import DATA_DIR


def cdata(value: object) -> Markup:
    """Return ``value`` wrapped in CDATA, splitting any ``]]>`` so the section stays valid."""
    raw = str(value).replace("]]>", "]]]]><![CDATA[>")
    return Markup(f"<![CDATA[{raw}]]>")


def json_ld(value: Any) -> Markup:
    """Return ``value`` as JSON that is safe inside <script> (``</script>`` cannot end it)."""
    raw = json.dumps(value, ensure_ascii=False, indent=2)
    return Markup(raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@cache
def environment() -> Environment:
    """Return the shared template environment (autoescaping on, strict undefined)."""
    env = Environment(
        loader=FileSystemLoader(DATA_DIR / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["cdata"] = cdata
    env.filters["json_ld"] = json_ld
    return env


def render(name: str, **context: Any) -> str:
    """Return template ``name`` rendered with ``context``."""
    return environment().get_template(name).render(**context)
