"""Build the benchmark table from the raw results ci/bench.sh leaves in a directory.

Usage: python report.py RESULTS_DIR

RESULTS_DIR holds capi-ref-N.tsv / capi-ours-N.tsv (bench/c/capi_bench.c on each library,
one file per round), native-N.tsv (bench/cpp/native_bench.cc on the reference), rust-N.tsv
(bench/src/bin/rust_rows.rs, timed as the C++ rows are), python.tsv
(bench/python/kernel_bench.py), ir.tsv ("program<TAB>row<TAB>instructions per op", from
callgrind; absent with --smoke) and machine.txt. Prints the table as Markdown.
"""

import statistics
import sys
from pathlib import Path

# (label, source of the reference time, source of ours, target ratio, shows the floor)
# A source is (program, row): capi-ref / capi-ours / native (C++ on the reference) /
# rust (bench/src/bin/rust_rows.rs) / py-c / py-rust.
ROWS = [
    ("floor: a bare indirect call (C)", ("capi-ref", "floor"), ("capi-ours", "floor"), None, False),
    ("packed call, 0 args (C API)", ("capi-ref", "call0"), ("capi-ours", "call0"), 0.8, True),
    ("packed call, 3 args (C API)", ("capi-ref", "call3"), ("capi-ours", "call3"), 0.8, True),
    ("packed call, 8 args (C API)", ("capi-ref", "call8"), ("capi-ours", "call8"), 0.8, True),
    ("typed call, 2 ints (C++→C++ / Rust→Rust)", ("native", "typed_call"), ("rust", "typed_call"), 0.8, True),
    ("inc+dec ref (C API)", ("capi-ref", "incdec"), ("capi-ours", "incdec"), 0.8, True),
    ("inc+dec ref (C++ copy / Rust clone)", ("native", "incdec"), ("rust", "incdec"), 0.8, True),
    ("string, 5 B inline (C API)", ("capi-ref", "str_small"), ("capi-ours", "str_small"), 1.0, False),
    ("string, 32 B (C API)", ("capi-ref", "str_32"), ("capi-ours", "str_32"), 1.0, False),
    ("string, 1 KiB (C API)", ("capi-ref", "str_1k"), ("capi-ours", "str_1k"), 1.0, False),
    ("function create + release (C API)", ("capi-ref", "func_create"), ("capi-ours", "func_create"), 1.0, False),
    ("global lookup, hit (C API)", ("capi-ref", "global_hit"), ("capi-ours", "global_hit"), 1.0, False),
    ("global lookup, miss (C API)", ("capi-ref", "global_miss"), ("capi-ours", "global_miss"), 1.0, False),
    ("error raise + fetch, with backtrace (C API)", ("capi-ref", "error"), ("capi-ours", "error"), 1.0, False),
    ("Array of 1e6 ints, build + sum (C, ffi.Array)", ("capi-ref", "array_1e6"), ("capi-ours", "array_1e6"), 1.0, False),
    ("Array of 1e6 ints, build + sum (C++ / Rust)", ("native", "array_1e6"), ("rust", "array_1e6"), 1.0, False),
    ("Map of 1e5 ints, insert + look up (C, ffi.Map)", ("capi-ref", "map_1e5"), ("capi-ours", "map_1e5"), 1.0, False),
    ("Map of 1e5 ints, insert + look up (C++ / Rust)", ("native", "map_1e5"), ("rust", "map_1e5"), 1.0, False),
    ("structural hash, 1e5-node object tree (C, ffi.StructuralHash)", ("capi-ref", "structural_hash_tree_1e5"), ("capi-ours", "structural_hash_tree_1e5"), 1.0, False),
    ("structural equal, 1e5-node object trees (C, ffi.StructuralEqual)", ("capi-ref", "structural_equal_tree_1e5"), ("capi-ours", "structural_equal_tree_1e5"), 1.0, False),
    ("structural hash, 1e5-node array tree (C, ffi.StructuralHash)", ("capi-ref", "structural_hash_array_tree_1e5"), ("capi-ours", "structural_hash_array_tree_1e5"), 1.0, False),
    ("structural equal, 1e5-node array trees (C, ffi.StructuralEqual)", ("capi-ref", "structural_equal_array_tree_1e5"), ("capi-ours", "structural_equal_array_tree_1e5"), 1.0, False),
    ("JSON parse, 10 MB document (C++ json::Parse)", ("capi-ref", "json_parse_10mb"), ("capi-ours", "json_parse_10mb"), 1.0, False),
    ("JSON stringify, 10 MB document (C++ json::Stringify)", ("capi-ref", "json_stringify_10mb"), ("capi-ours", "json_stringify_10mb"), 1.0, False),
    ("JSON graph round trip, 10 MB (ffi.ToJSONGraphString + FromJSONGraphString)", ("capi-ref", "graph_roundtrip"), ("capi-ours", "graph_roundtrip"), 1.0, False),
    ("DLPack import + release (C API)", ("capi-ref", "dlpack_import"), ("capi-ours", "dlpack_import"), 1.0, False),
    ("DLPack export + delete (C API)", ("capi-ref", "dlpack_export"), ("capi-ours", "dlpack_export"), 1.0, False),
    ("Python: add_one, 16 floats (C++ / Rust kernel)", ("py-c", "py_add_one_16"), ("py-rust", "py_add_one_16"), 1.0, False),
    ("Python: add_one, 4096 floats", ("py-c", "py_add_one_4k"), ("py-rust", "py_add_one_4k"), 1.0, False),
    ("Python: add_one with from_dlpack per call", ("py-c", "py_add_one_from_numpy"), ("py-rust", "py_add_one_from_numpy"), 1.0, False),
    ("Python: add_one_int", ("py-c", "py_add_one_int"), ("py-rust", "py_add_one_int"), 1.0, False),
]


def read_rounds(results, prefix):
    """{row: [ns per round]} from PREFIX-N.tsv files."""
    rows = {}
    for path in sorted(results.glob(f"{prefix}-*.tsv")):
        for line in path.read_text().splitlines():
            name, ns, *_ = line.split("\t")
            if ns != "n/a":
                rows.setdefault(name, []).append(float(ns))
    return {name: statistics.median(v) for name, v in rows.items()}


def read_python(results):
    c, rust = {}, {}
    path = results / "python.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            name, c_ns, rust_ns = line.split("\t")
            c[name], rust[name] = float(c_ns), float(rust_ns)
    return c, rust


def read_ir(results):
    ir = {}
    path = results / "ir.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            program, row, count = line.split("\t")
            if count != "n/a":
                ir[(program, row)] = float(count)
    return ir


# Which program's instruction counts stand for a time source.
IR_PROGRAM = {"capi-ref": "capi-ref", "capi-ours": "capi-ours", "native": "native", "rust": "rust"}


def fmt_ns(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.1f}"


def fmt_ir(n):
    if n is None:
        return "—"
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    if n >= 1e4:
        return f"{n / 1e3:.1f} k"
    return f"{n:.0f}"


def main(results):
    times = {
        "capi-ref": read_rounds(results, "capi-ref"),
        "capi-ours": read_rounds(results, "capi-ours"),
        "native": read_rounds(results, "native"),
        "rust": read_rounds(results, "rust"),
    }
    times["py-c"], times["py-rust"] = read_python(results)
    ir = read_ir(results)
    floor = times["capi-ours"].get("floor")

    print("| row | reference ns | ours ns | ratio | target | instr. reference | instr. ours | instr. ratio | floor ns | ours − floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    over = []
    for label, ref_src, our_src, target, shows_floor in ROWS:
        ref = times[ref_src[0]].get(ref_src[1])
        ours = times[our_src[0]].get(our_src[1])
        ir_ref = ir.get((IR_PROGRAM.get(ref_src[0]), ref_src[1]))
        ir_ours = ir.get((IR_PROGRAM.get(our_src[0]), our_src[1]))
        ratio = ours / ref if ref and ours else None
        if ratio is None:
            status = "pending" if ours is None else "—"
        else:
            status = f"{ratio:.2f}"
            if target is not None and ratio > target:
                status += " ✗"
                over.append(label)
        ir_ratio = f"{ir_ours / ir_ref:.2f}" if ir_ref and ir_ours else "—"
        floor_cells = (fmt_ns(floor), fmt_ns(ours - floor) if ours is not None else "—") if shows_floor and floor else ("", "")
        print(
            f"| {label} | {fmt_ns(ref)} | {fmt_ns(ours)} | {status} | "
            f"{'' if target is None else f'≤ {target}'} | {fmt_ir(ir_ref)} | {fmt_ir(ir_ours)} | {ir_ratio} | "
            f"{floor_cells[0]} | {floor_cells[1]} |"
        )
    print()
    print("ns: median per operation; ratio: ours / reference, ✗ over its target; instr.: callgrind")
    print("instructions per operation (the difference of two runs of different lengths).")
    if over:
        print(f"Over target: {'; '.join(over)}.")
    machine = results / "machine.txt"
    if machine.exists():
        print()
        print(machine.read_text().strip())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
