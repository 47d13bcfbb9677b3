"""Keep the README honest: every command, every config key, the setup and test commands."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from tracker.cli import cli
from tracker.config import Config, NaverApiSource, RssSource

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")


def command_paths(group: object = cli, prefix: str = "tracker") -> list[str]:
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if name == "path":
            continue
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(config_keys(annotation, key + "."))
        else:
            keys.append(key)
    return keys


def test_every_command_is_documented() -> None:
    missing = [path for path in command_paths() if f"`{path}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_every_config_key_is_documented() -> None:
    missing = [key for key in config_keys(Config) if f"`{key}`" not in README]
    assert not missing, f"config keys missing from README: {missing}"


def test_every_source_key_is_documented() -> None:
    for model in (NaverApiSource, RssSource):
        for name in model.model_fields:
            if name in {"name", "type", "enabled", "official"}:
                assert f"`{name}`" in README
                continue
            assert f"`{name}`" in README or f"`{name}," in README, f"source key {name} undocumented"
    for literal in (NaverApiSource, RssSource):
        (tag,) = typing.get_args(literal.model_fields["type"].annotation)
        assert f"type: {tag}" in README


def test_readme_setup_is_two_commands_and_ci_runs_the_test_command() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) == 1 for b in blocks)
    install, test = (b.strip() for b in blocks)
    assert "pip install" in install and "tracker run" in install
    assert test in CI
