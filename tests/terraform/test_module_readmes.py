"""Each module's README (and the stack's) documents its real interface: the tables match
variables.tf/outputs.tf.

Agreed format: a ``## Inputs`` table ``| Name | Description | Type | Default | Required |`` and
an ``## Outputs`` table ``| Name | Description |``, plus a ``## Usage`` whose first ``hcl`` block
is the code of one of the module's examples (``examples/<name>/main.tf``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform import hcl
from tests.terraform.tf import ROOT, STACK, module_dirs

# Every module, and environments/stack (the service's composition the stage roots call).
DOCUMENTED = [p.relative_to(ROOT).as_posix() for p in [*module_dirs(), STACK]]
INPUT_COLUMNS = ["name", "description", "type", "default", "required"]
OUTPUT_COLUMNS = ["name", "description"]


def _cells(row: str) -> list[str]:
    """The cells of a markdown table row; ``\\|`` is a literal pipe inside a cell."""
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def _section(readme: str, title: str) -> str:
    match = re.search(rf"^## {title}\s*$(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    assert match, f"README has no '## {title}' section"
    return match[1]


def _table(readme: str, title: str, columns: list[str]) -> dict[str, dict[str, str]]:
    rows = [line for line in _section(readme, title).splitlines() if line.strip().startswith("|")]
    assert len(rows) >= 2, f"'## {title}' has no table"
    header = [cell.lower() for cell in _cells(rows[0])]
    assert header == columns, f"'## {title}' columns are {header}, expected {columns}"
    assert set(rows[1].replace("|", "").strip()) <= set("-: "), "second row must be the separator"
    table: dict[str, dict[str, str]] = {}
    for row in rows[2:]:
        cells = _cells(row)
        assert len(cells) == len(columns), f"'## {title}' row has {len(cells)} cells: {row}"
        name = _name(cells[0])
        assert name not in table, f"'## {title}' lists {name} twice"
        table[name] = dict(zip(columns, cells, strict=True))
    return table


def _name(cell: str) -> str:
    """`name`, [name](#input_name) or <a name=...></a> [name](...) -> name."""
    cell = re.sub(r"<a [^>]*></a>", "", cell).strip()
    link = re.fullmatch(r"\[(.+?)\]\(.*\)", cell)
    return (link[1] if link else cell).strip("` ")


def _normal(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text)
    return " ".join(text.split())


@pytest.fixture(params=DOCUMENTED)
def module(request: pytest.FixtureRequest) -> Path:
    return ROOT / str(request.param)


def _readme(module: Path) -> str:
    path = module / "README.md"
    assert path.is_file(), f"{module.name} has no README.md"
    return path.read_text()


def test_readme_has_a_copyable_usage_example(module: Path) -> None:
    fences = re.findall(
        r"```(?:hcl|terraform)\n(.*?)```", _section(_readme(module), "Usage"), re.DOTALL
    )
    usage = [f for f in fences if re.search(r'module\s+"[^"]+"\s*\{', f)]
    assert usage, "README needs a ```hcl block with a module call"
    if module == STACK:
        assert any('"../stack"' in f for f in usage), "the example's source names the stack"
        return
    # A module's usage is the code of one of its examples (examples/<name>/main.tf), which
    # tests/terraform/test_module_examples.py validates and applies from a copy of the module
    # alone: what a reader copies is code that runs.
    examples = {
        e.name: (e / "main.tf").read_text() for e in sorted((module / "examples").glob("*/"))
    }
    assert examples, f"{module.name} has no examples/"
    first = fences[0]
    same = [name for name, code in examples.items() if code == first]
    assert same, (
        "the first ```hcl block of '## Usage' must be exactly one example's main.tf "
        f"(examples: {sorted(examples)})"
    )


def test_inputs_table_matches_variables(module: Path) -> None:
    table = _table(_readme(module), "Inputs", INPUT_COLUMNS)
    variables = {v.name: v for v in hcl.read_blocks(module, "variable")}
    assert sorted(table) == sorted(variables), "Inputs rows must be exactly the variables"
    for name, variable in variables.items():
        row = table[name]
        assert _normal(row["description"]) == _normal(variable.description or ""), (
            f"{name}: README description differs from variables.tf"
        )
        required = "no" if variable.has_default else "yes"
        assert row["required"].strip("` ").lower() == required, (
            f"{name}: Required should be {required}"
        )
        if variable.has_default:
            assert row["default"].strip(), f"{name}: Default is empty but variables.tf has one"
        else:
            assert row["default"].strip("` ") in ("", "n/a", "-"), f"{name}: has no default"
        assert row["type"].strip(), f"{name}: Type is empty"


def test_outputs_table_matches_outputs(module: Path) -> None:
    table = _table(_readme(module), "Outputs", OUTPUT_COLUMNS)
    outputs = {o.name: o for o in hcl.read_blocks(module, "output")}
    assert sorted(table) == sorted(outputs), "Outputs rows must be exactly the outputs"
    for name, output in outputs.items():
        assert output.description, f"output {name} has no description"
        assert _normal(table[name]["description"]) == _normal(output.description), (
            f"{name}: README description differs from outputs.tf"
        )


def test_the_parser_reads_what_terraform_fmt_writes() -> None:
    sample = """variable "a" {
  description = "Say \\"hi\\" to $${name} | pipes"
  type = object({
    x = optional(string, "}")
  })
  default = {
    x = "{"
  }

  validation {
    condition     = length(var.a.x) > 0 # a } in a comment
    error_message = "default = nope"
  }
}

variable "b" {
  description = <<-EOT
    Two
    lines
  EOT
  type        = string
}

output "c" {
  description = "C."
  value       = { for k, v in var.a : k => "${v}}" }
}
"""
    variables = hcl.blocks(sample, "variable")
    assert [v.name for v in variables] == ["a", "b"]
    assert variables[0].description == 'Say "hi" to ${name} | pipes'
    assert variables[0].has_default
    assert "validation" not in variables[0].attributes
    assert variables[1].description == "Two\nlines"
    assert not variables[1].has_default
    outputs = hcl.blocks(sample, "output")
    assert [(o.name, o.description) for o in outputs] == [("c", "C.")]
    assert _cells("| `a` | x \\| y | `list(string)` | `[]` | no |") == [
        "`a`",
        "x | y",
        "`list(string)`",
        "`[]`",
        "no",
    ]
    assert _name("[a](#input_a)") == "a"
    assert _name('<a name="input_a"></a> [a](#input\\_a)') == "a"
