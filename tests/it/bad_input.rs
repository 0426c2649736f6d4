//! Bad input: one test per kind of bad data or rubric (exit 1, a message naming file, line and column or key).
