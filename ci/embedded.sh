#!/usr/bin/env bash
# The ABI on emulated microcontrollers: the firmware in tests/embedded, linted, built for
# release, booted in QEMU (each must exit 0 through semihosting), and the size budget of the
# core ABI path on a Cortex-M0 (fails above it).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "embedded: firmware in QEMU, and the size budget"

# The minimal Cortex-M0 image (values, refcount, one packed call, error code) must fit these.
FLASH_BUDGET=$((8 * 1024))
RAM_BUDGET=1024
# Seconds a firmware may run in QEMU (each takes well under one).
RUN_TIMEOUT=60

FW_DIR="$REPO_ROOT/tests/embedded"
cd "$FW_DIR"

# name, Rust target, QEMU command (the ELF follows -kernel).
BOARDS=(
    "fw-microbit thumbv6m-none-eabi qemu-system-arm -cpu cortex-m0 -machine microbit"
    "fw-lm3s6965evb thumbv7m-none-eabi qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb"
    "fw-riscv32-virt riscv32imac-unknown-none-elf qemu-system-riscv32 -machine virt -bios none"
    "fw-m0-minimal thumbv6m-none-eabi qemu-system-arm -cpu cortex-m0 -machine microbit"
)

ensure_target thumbv6m-none-eabi thumbv7m-none-eabi riscv32imac-unknown-none-elf || {
    skip "embedded firmware: the Rust targets cannot be installed"
    exit 0
}

echo "--- lint"
run cargo fmt --all --check -- --color never
for board in "${BOARDS[@]}"; do
    read -r name target _ <<<"$board"
    run cargo clippy --locked --release -p "$name" --target "$target" -- -D warnings
done

echo "--- build"
for board in "${BOARDS[@]}"; do
    read -r name target _ <<<"$board"
    run cargo build --locked --release -p "$name" --target "$target"
done
elf() { echo "${CARGO_TARGET_DIR:-$FW_DIR/target}/$2/release/$1"; }

echo "--- run in QEMU"
qemu_ok=1
ensure_apt qemu-system-arm qemu-system-misc || qemu_ok=0
# defmt frames need the host decoder; installing it takes about a minute, once per machine.
defmt_ok=1
command -v defmt-print >/dev/null || run cargo install --locked --quiet defmt-print || defmt_ok=0

failed=0
if [ "$qemu_ok" = 1 ]; then
    for board in "${BOARDS[@]}"; do
        read -r name target qemu <<<"$board"
        echo "- $name"
        out="$(mktemp)"
        status=0
        # Every firmware but the minimal one closes with "<board>: 0 of N checks failed".
        report=1
        [ "$name" != fw-m0-minimal ] || report=0
        # shellcheck disable=SC2086 # the QEMU command is split on purpose
        timeout "$RUN_TIMEOUT" $qemu -nographic -monitor none -serial none \
            -semihosting-config enable=on,target=native -kernel "$(elf "$name" "$target")" \
            >"$out" || status=$?
        if [ "$name" = fw-lm3s6965evb ]; then
            if [ "$defmt_ok" = 1 ]; then
                defmt-print -e "$(elf "$name" "$target")" <"$out" >"$out.txt" || status=1
                # Decoding proves the frames are well formed and the last report was sent.
                grep -q "alloc tier: 0 of [0-9]* checks failed" "$out.txt" || status=1
            else
                skip "defmt-print cannot be installed: $name's defmt log is not decoded"
                : >"$out.txt"
                report=0
            fi
        else
            cp "$out" "$out.txt"
        fi
        sed 's/^/    /' "$out.txt"
        # Exit status 0 and the closing report: a firmware that stopped early says nothing.
        if [ "$report" = 1 ] && ! grep -Eq '0 of [1-9][0-9]* checks failed' "$out.txt"; then
            echo "  $name: no closing report"
            [ "$status" -ne 0 ] || status=1
        fi
        if [ "$status" -eq 0 ]; then
            echo "  $name: exit status 0"
        else
            echo "  $name: FAILED (exit status $status; 124 is a timeout)"
            failed=1
        fi
        rm -f "$out" "$out.txt"
    done
else
    skip "QEMU cannot be installed: the firmware is built but not run"
fi

echo "--- size (release images)"
host="$(rustc -vV | sed -n 's/^host: //p')"
llvm_size="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-size"
if [ ! -x "$llvm_size" ]; then
    ensure_component llvm-tools || { skip "llvm-tools cannot be installed: no size budget"; exit "$failed"; }
fi
# Flash: every section loaded from the image (vector table, code, read-only data, the
# initial values of .data); static RAM: .data and .bss. riscv-rt's .stack and .heap only
# reserve what is left of RAM, so they are not counted.
sizes() {
    "$llvm_size" -A "$1" | awk '
        /^\.(debug|comment|ARM\.attributes|riscv\.attributes|defmt|symtab|strtab|shstrtab|stack|heap)/ { next }
        /^\.(bss|uninit)/ { ram += $2; next }
        /^\.data/ { ram += $2; flash += $2; next }
        /^\./ { flash += $2 }
        END { print flash + 0, ram + 0 }'
}
printf '  %-16s %-30s %10s %12s\n' firmware target "flash (B)" "static RAM (B)"
for board in "${BOARDS[@]}"; do
    read -r name target _ <<<"$board"
    read -r flash ram < <(sizes "$(elf "$name" "$target")")
    printf '  %-16s %-30s %10s %12s\n' "$name" "$target" "$flash" "$ram"
    if [ "$name" = fw-m0-minimal ]; then
        min_flash=$flash min_ram=$ram
    fi
done
echo "  budget of fw-m0-minimal (the core ABI path): flash $min_flash / $FLASH_BUDGET B, static RAM $min_ram / $RAM_BUDGET B"
if [ "$min_flash" -gt "$FLASH_BUDGET" ] || [ "$min_ram" -gt "$RAM_BUDGET" ]; then
    echo "  FAILED: the core ABI path is over its size budget"
    failed=1
fi
exit "$failed"
