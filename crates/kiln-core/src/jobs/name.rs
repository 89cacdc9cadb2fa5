//! What a job name may be (the queue and the settings that name jobs check it alike).

/// 1 to 100 ASCII letters, digits, `_`, `-`, `.` or `:`.
pub fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
}
