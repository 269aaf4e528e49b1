//! Strategies for the property tests that feed the readers of user files hostile input:
//! anything at all, and valid files with a few bytes deleted, inserted or replaced.

use proptest::prelude::*;

/// Arbitrary text, valid UTF-8 of any kind.
pub fn any_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(?s).{0,400}").expect("a valid regex")
}

/// `base` with up to eight edits: a slice removed and some text put in its place.
pub fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let edit = (
        0..=base.len(),
        0usize..40,
        // Multi-byte characters too: a reader must never cut text inside one.
        proptest::string::string_regex(r#"(?s)[\[\]{}"=,:.\n 0-9a-z_\-\\éß€😀]{0,12}"#)
            .expect("regex"),
    );
    proptest::collection::vec(edit, 1..8).prop_map(move |edits| {
        let mut text = base.to_string();
        for (at, len, insert) in edits {
            let start = floor_boundary(&text, at.min(text.len()));
            let end = floor_boundary(&text, (start + len).min(text.len()));
            text.replace_range(start..end, &insert);
        }
        text
    })
}

/// Arbitrary bytes (not always UTF-8).
pub fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..600)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
