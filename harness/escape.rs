//! Escaping: one function per output language for every string that comes from a record, a
//! case or torch and lands in something a person or a program reads. Records are shared
//! between machines and committed to repositories, so their strings are hostile: nothing
//! they hold may end a comment, a fence or an element, or start a new line of code. It also
//! says which of those strings can be what they claim to be (a version), so that a forged
//! one is refused before anything writes it.

/// The first two lines of every Python file shapefuzz writes. Python reads a PEP 263
/// encoding declaration from line 1 or 2 only, so with these two fixed the file is decoded
/// as UTF-8 whatever a record's text says further down: a `coding: unicode_escape` or
/// `utf-7` in a comment can no longer turn an escaped `\n` into a new statement.
pub const PYTHON_PREAMBLE: &str = "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n";

/// Text for a Python `#` comment: one line, no control characters, and none of the
/// characters other readers take as a line break (U+2028, U+2029).
pub fn python_comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Text inside a Markdown code fence: a run of three backticks would close the fence.
pub fn markdown_fence(s: &str) -> String {
    s.replace("```", "`\u{200b}``")
}

/// Text inside inline Markdown code: no backticks, one line.
pub fn markdown_code(s: &str) -> String {
    s.chars()
        .map(|c| if c == '`' || c.is_control() { '\'' } else { c })
        .collect()
}

/// Running Markdown text: one line, HTML and Markdown specials escaped.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '|' | '\\' => {
                out.push('\\');
                out.push(c)
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for an XML attribute or element.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not XML 1.0 characters: a parser refuses the whole file.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A word for a POSIX shell command line: as is when it holds only characters no shell
/// reads specially, else single-quoted (a `'` inside closes, escapes and reopens).
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A Markdown code fence for `s` kept verbatim: one backtick more than the longest run of
/// backticks in it (at least three), so nothing inside can close it.
pub fn fence_for(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Whether a string read from a file can be a package version (`2.15.0+cu132`): short,
/// and nothing but letters, digits and `._+-`.
pub fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
}
