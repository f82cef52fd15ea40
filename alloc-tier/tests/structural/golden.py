"""Run the scenarios of `cases.txt` on the reference and write what it answers to `golden.txt`.

    .venv/bin/python alloc-tier/tests/structural/golden.py          # regenerate golden.txt
    .venv/bin/python alloc-tier/tests/structural/golden.py --check  # compare, exit 1 on change

Each golden line is `name<TAB>equal<TAB>lhs hash<TAB>rhs hash<TAB>mismatch lhs<TAB>mismatch rhs`:
`equal` is `true`, `false` or `error: Kind: message`; a hash is an unsigned 64-bit integer,
`-` when not computed, or `*` when it differs between two builds of the same value (hashes of
free variables outside a definition region depend on addresses); the mismatch paths are the
reference's `repr` of `get_first_structural_mismatch`, `-` when equal. Walk lines are
`name<TAB>pre-order trace<TAB>post-order trace`, map lines `name<TAB>result hash<TAB>same`,
trail lines `name` and, for the walk then the map, `strict paths<TAB>prefix paths<TAB>length`.

The node types mirror `tests/structural/nodes.rs`: the same type keys, field names, field
order, structural kinds and field flags, so the hashes (which mix in the type keys) agree.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import tvm_ffi
from tvm_ffi import core
from tvm_ffi.dataclasses import Object, field, py_class

HERE = Path(__file__).resolve().parent


@py_class("test.structural.Tree", structural_eq="tree")
class Tree(Object):
    a: Any
    b: Any
    c: Any


@py_class("test.structural.Var", structural_eq="var")
class Var(Object):
    name: Any = field(structural_eq="ignore")


@py_class("test.structural.Func", structural_eq="tree")
class Func(Object):
    params: Any = field(structural_eq="def-pattern")
    body: Any


@py_class("test.structural.SLet", structural_eq="tree")
class SLet(Object):
    var: Any = field(structural_eq="def-simple")
    value: Any
    body: Any


@py_class("test.structural.Dag", structural_eq="dag")
class Dag(Object):
    a: Any
    b: Any


@py_class("test.structural.Const", structural_eq="const-tree")
class Const(Object):
    a: Any


@py_class("test.structural.Uniq", structural_eq="singleton")
class Uniq(Object):
    a: Any


@py_class("test.structural.Unsup", structural_eq=None)
class Unsup(Object):
    a: Any


@py_class("test.structural.Hooked", structural_eq="tree")
class Hooked(Object):
    a: Any
    b: Any


# Hooks that look at field `a` only: `b` never counts.
core._register_type_attr(
    Hooked.__tvm_ffi_type_info__.type_index,
    "__s_equal__",
    lambda lhs, rhs, compare: compare(lhs.a, rhs.a, 0, "a"),
)
core._register_type_attr(
    Hooked.__tvm_ffi_type_info__.type_index,
    "__s_hash__",
    lambda obj, seed, hash_value: hash_value(obj.a, seed, 0),
)

NODES = {cls.__name__: cls for cls in [Tree, Var, Func, SLet, Dag, Const, Uniq, Unsup, Hooked]}


class Parser:
    """The value language of cases.txt (see its header)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.names: dict[str, Any] = {}

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        self.skip()
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace() and self.text[
            self.pos
        ] not in "()[]{}":
            self.pos += 1
        return self.text[start : self.pos]

    def string(self) -> str:
        assert self.text[self.pos] == '"'
        self.pos += 1
        out = []
        while self.text[self.pos] != '"':
            if self.text[self.pos] == "\\":
                self.pos += 1
                out.append({"n": "\n", "t": "\t"}.get(self.text[self.pos], self.text[self.pos]))
            else:
                out.append(self.text[self.pos])
            self.pos += 1
        self.pos += 1
        return "".join(out)

    def items(self, close: str) -> list[Any]:
        out = []
        while self.peek() != close:
            out.append(self.value())
        self.pos += 1
        return out

    def value(self) -> Any:
        c = self.peek()
        if c == '"':
            return self.string()
        if c == "[":
            self.pos += 1
            return tvm_ffi.Array(self.items("]"))
        if c == "{":
            self.pos += 1
            kv = self.items("}")
            return tvm_ffi.Map(dict(zip(kv[0::2], kv[1::2])))
        if c == "(":
            self.pos += 1
            head = self.token()
            dtype = self.token() if head == "tensor" else None
            args = self.items(")")
            if head == "list":
                return tvm_ffi.List(args)
            if head == "dict":
                return tvm_ffi.Dict(dict(zip(args[0::2], args[1::2])))
            if head == "shape":
                return tvm_ffi.Shape(args)
            if head == "tensor":
                dtype = {"f32": "float32", "i64": "int64"}[dtype]
                return tvm_ffi.from_dlpack(np.array(args, dtype=dtype))
            return NODES[head](*args)
        if c == "b" and self.text[self.pos + 1] == '"':
            self.pos += 1
            return self.string().encode()
        if c == "$":
            self.pos += 1
            start = self.pos
            while self.text[self.pos].isalnum() or self.text[self.pos] == "_":
                self.pos += 1
            name = self.text[start : self.pos]
            if self.text[self.pos] == ":":
                self.pos += 1
                self.names[name] = self.value()
            return self.names[name]
        tok = self.token()
        if tok.startswith("big:"):
            return int(tok[4:])
        consts = {"none": None, "true": True, "false": False, "nan": math.nan, "inf": math.inf}
        if tok in consts:
            return consts[tok]
        return float(tok) if any(ch in tok for ch in ".e") else int(tok)


def parse(text: str) -> Any:
    p = Parser(text)
    v = p.value()
    assert p.peek() == "", f"trailing text in {text!r}"
    return v


def hash_of(text: str, opts: dict[str, bool]) -> str:
    h1 = tvm_ffi.structural_hash(parse(text), **opts)
    h2 = tvm_ffi.structural_hash(parse(text), **opts)
    return str(h1) if h1 == h2 else "*"


def guarded_hash(text: str, opts: dict[str, bool]) -> str:
    try:
        return hash_of(text, opts)
    except Exception as e:  # noqa: BLE001 - the error is the expected output
        return f"error: {type(e).__name__}: {e}"


def run(line: str) -> str:
    name, options, lhs_text, rhs_text = (part.strip() for part in line.split("|"))
    opts = {
        "map_free_vars": "map" in options.split("+"),
        "skip_tensor_content": "skip" in options.split("+"),
    }
    lhs_hash = guarded_hash(lhs_text, opts)
    if rhs_text == "-":
        return "\t".join([name, "-", lhs_hash, "-", "-", "-"])
    lhs = parse(lhs_text)
    rhs = lhs if rhs_text == "=" else parse(rhs_text)
    rhs_hash = lhs_hash if rhs_text == "=" else guarded_hash(rhs_text, opts)
    if lhs_hash.startswith("error") or rhs_hash.startswith("error"):
        lhs_hash = rhs_hash = "-"
    try:
        equal = "true" if tvm_ffi.structural_equal(lhs, rhs, **opts) else "false"
        mismatch = tvm_ffi.get_first_structural_mismatch(lhs, rhs, **opts)
    except Exception as e:  # noqa: BLE001 - the error is the expected output
        return "\t".join([name, f"error: {type(e).__name__}: {e}", "-", "-", "-", "-"])
    paths = ["-", "-"] if mismatch is None else [repr(mismatch[0]), repr(mismatch[1])]
    return "\t".join([name, equal, lhs_hash, rhs_hash, *paths])


def label(value: Any) -> str:
    if isinstance(value, Object) and type(value).__name__ in NODES:
        return type(value).__name__
    if isinstance(value, Object):
        return value.__tvm_ffi_type_info__.type_key.split(".")[-1]
    return repr(value)


def walk(line: str) -> str:
    name, text = (part.strip() for part in line[len("walk ") :].split("|"))
    traces = []
    for order in ("pre", "post"):
        trace: list[str] = []
        tvm_ffi.structural_walk(
            parse(text),
            with_def_region_kind=lambda v, k, trace=trace: trace.append(f"{int(k)}:{label(v)}"),
            order=order,
        )
        traces.append(" ".join(trace))
    return "\t".join([name, *traces])


def map_case(line: str) -> str:
    name, order, text = (part.strip() for part in line[len("map ") :].split("|"))
    value = parse(text)
    result = tvm_ffi.structural_map(value, (int, lambda v: v + 1), order=order)
    same = isinstance(value, Object) and value.same_as(result)
    return "\t".join([name, str(tvm_ffi.structural_hash(result)), str(same).lower()])


def fail_on_four(value: int) -> int:
    if value == 4:
        raise ValueError("four")
    return value


def trail(line: str) -> str:
    name, text = (part.strip() for part in line[len("trail ") :].split("|"))
    find = tvm_ffi.get_global_func("ffi.VisitErrorContext.FindAccessPaths")
    out = [name]
    for run_it in (
        lambda v: tvm_ffi.structural_walk(v, (int, fail_on_four)),
        lambda v: tvm_ffi.structural_map(v, (int, fail_on_four)),
    ):
        value = parse(text)
        try:
            run_it(value)
            raise AssertionError("the callback must fail")
        except ValueError as e:
            ctx = e.__tvm_ffi_error__.extra_context
        for prefix in (False, True):
            out.append(" ".join(repr(p) for p in find(value, ctx, prefix)) or "-")
        out.append(str(len(ctx.reverse_visit_pattern)))
    return "\t".join(out)


def run_any(line: str) -> str:
    if line.startswith("trail "):
        return trail(line)
    if line.startswith("walk "):
        return walk(line)
    if line.startswith("map "):
        return map_case(line)
    return run(line)


def main() -> int:
    lines = [
        line
        for line in (HERE / "cases.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    out = "".join(run_any(line) + "\n" for line in lines)
    golden = HERE / "golden.txt"
    if "--check" in sys.argv:
        if golden.read_text() != out:
            print("golden.txt differs from what the reference answers now", file=sys.stderr)
            return 1
        return 0
    golden.write_text(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
