//! The JSON parser (`ffi.json.Parse`) and the JSON graph reader (`ffi.FromJSONGraph`) on
//! arbitrary bytes: any input is a value or a positioned error, never a crash, and what
//! they accept writes back as text that reads back to the same text (values keep their
//! types and float bits through a round trip).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::json;
use tvmffi_alloc::serialization::{from_json_graph_string, to_json_graph_string};
use tvmffi_core::AnyView;
// Links the runtime that defines the C API.
use tvmffi_fuzz as _;

fuzz_target!(|data: &[u8]| {
    match json::parse(data) {
        Ok(value) => round_trip(value.view()),
        Err(e) => {
            assert!(e.offset() <= data.len(), "error offset {} past the input", e.offset());
            assert!(e.line() >= 1 && e.column() >= 1);
            let _ = e.to_string();
        }
    }
    if let Ok(value) = from_json_graph_string(data) {
        // A graph the reader accepted is written back and read again.
        if let Ok(text) = to_json_graph_string(value.view(), AnyView::NONE) {
            let again = from_json_graph_string(&text).expect("a written graph reads back");
            let text2 = to_json_graph_string(again.view(), AnyView::NONE).expect("and writes");
            assert_eq!(text, text2);
        }
    }
});

/// Written, read and written again: the same text, compact and indented.
fn round_trip(value: AnyView<'_>) {
    for indent in [None, Some(2)] {
        let mut text = Vec::new();
        json::write(&mut text, value, indent).expect("a parsed value writes");
        let again = json::parse(&text).unwrap_or_else(|e| {
            panic!("written JSON does not read back: {e}: {}", String::from_utf8_lossy(&text))
        });
        let mut text2 = Vec::new();
        json::write(&mut text2, again.view(), indent).expect("writes again");
        assert_eq!(text, text2, "a round trip changed the text");
    }
}
