//! Cuts quote-free CSV text into lines and cells in one pass over the text, sixty-four bytes at
//! a time: each stretch's commas and line ends are found at once, as bits of two masks, and
//! the lines and cells come out of the bits.
//!
//! A search for each line's end and then for its commas (what `Records::plain_block` did) set
//! up two searches a line and tested a line's last few bytes one by one: on a quarter's points
//! and KPI files of half a million people that took 66 ms, this 34 ms (docs/performance.md,
//! session 19). On x86-64 the masks are made with SSE2, sixteen bytes to an instruction, which
//! every x86-64 processor has; elsewhere byte by byte, to the same masks.

/// How many bytes one pair of masks covers.
const STRETCH: usize = 64;

/// Where the commas and the line ends (CR or LF) of a stretch are: bit `i` for byte `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marks {
    commas: u64,
    breaks: u64,
}

/// The marks of `stretch`, by the fastest way this processor has.
#[inline]
fn marks(stretch: &[u8; STRETCH]) -> Marks {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: SSE2 is enabled for this build (the cfg above), and `marks_sse2` reads only
        // within `stretch`.
        unsafe { marks_sse2(stretch) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        marks_bytewise(stretch)
    }
}

/// `marks` one byte at a time: where SSE2 is not, and what the tests hold SSE2 to.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn marks_bytewise(stretch: &[u8; STRETCH]) -> Marks {
    let mut marks = Marks { commas: 0, breaks: 0 };
    for (i, &b) in stretch.iter().enumerate() {
        marks.commas |= u64::from(b == b',') << i;
        marks.breaks |= u64::from(b == b'\n' || b == b'\r') << i;
    }
    marks
}

/// # Safety
/// The processor must have SSE2 (every x86-64 one does).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
unsafe fn marks_sse2(stretch: &[u8; STRETCH]) -> Marks {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let (comma, lf, cr) = (_mm_set1_epi8(b',' as i8), _mm_set1_epi8(b'\n' as i8), _mm_set1_epi8(b'\r' as i8));
    let mut marks = Marks { commas: 0, breaks: 0 };
    for part in 0..STRETCH / 16 {
        // SAFETY: bytes 16 * part .. 16 * part + 16 lie within the 64 of `stretch`; the load
        // needs no alignment.
        let bytes = unsafe { _mm_loadu_si128(stretch.as_ptr().add(16 * part).cast::<__m128i>()) };
        // `movemask` gives one bit a byte, in its low 16 bits (never negative as a u16).
        let bits = |found: __m128i| u64::from(_mm_movemask_epi8(found) as u16);
        marks.commas |= bits(_mm_cmpeq_epi8(bytes, comma)) << (16 * part);
        marks.breaks |= bits(_mm_or_si128(_mm_cmpeq_epi8(bytes, lf), _mm_cmpeq_epi8(bytes, cr))) << (16 * part);
    }
    marks
}

/// A line of the text, without its line end.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'t> {
    pub text: &'t str,
    /// Whether a line end followed it (the text's last line may have none).
    pub ended: bool,
}

/// The lines of quote-free text, in order, as the csv crate reads them: CR, LF and CRLF each
/// end a line (an empty one too), and a last line without an end still counts.
pub struct Lines<'t> {
    text: &'t str,
    /// Where the stretch whose marks are held begins.
    base: usize,
    marks: Marks,
    /// The marks of the held stretch not yet taken (commas and line ends together).
    left: u64,
    /// Where the next line begins.
    start: usize,
    /// The last line ended with a CR: an LF right after it is that line's end, not a line.
    after_cr: bool,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Lines<'t> {
        let mut lines =
            Lines { text, base: 0, marks: Marks { commas: 0, breaks: 0 }, left: 0, start: 0, after_cr: false };
        lines.hold(0);
        lines
    }

    /// Holds the marks of the stretch at `base` (past the text's end: none).
    fn hold(&mut self, base: usize) {
        let bytes = self.text.as_bytes();
        self.base = base;
        self.marks = match bytes.get(base..base + STRETCH) {
            Some(stretch) => marks(stretch.try_into().expect("a stretch")),
            None if base < bytes.len() => {
                // The text's last bytes, filled out with bytes that are neither mark.
                let mut last = [0u8; STRETCH];
                last[..bytes.len() - base].copy_from_slice(&bytes[base..]);
                marks(&last)
            }
            None => Marks { commas: 0, breaks: 0 },
        };
        self.left = self.marks.commas | self.marks.breaks;
    }

    /// The next line, with where each of its cells ends (from the line's start; the last at
    /// its length) put in `ends` in place of what was there.
    pub fn next_line(&mut self, ends: &mut Vec<usize>) -> Option<Line<'t>> {
        ends.clear();
        let bytes = self.text.as_bytes();
        loop {
            while self.left != 0 {
                let bit = self.left.trailing_zeros();
                self.left &= self.left - 1;
                let at = self.base + bit as usize;
                if self.marks.commas >> bit & 1 == 1 {
                    ends.push(at - self.start);
                    continue;
                }
                if self.after_cr && at == self.start && bytes[at] == b'\n' {
                    // The LF of a CRLF.
                    self.start = at + 1;
                    self.after_cr = false;
                    continue;
                }
                ends.push(at - self.start);
                // Commas and line ends are ASCII: the line is whole UTF-8.
                let text = &self.text[self.start..at];
                self.after_cr = bytes[at] == b'\r';
                self.start = at + 1;
                return Some(Line { text, ended: true });
            }
            if self.base + STRETCH >= bytes.len() {
                if self.start >= bytes.len() {
                    return None;
                }
                ends.push(bytes.len() - self.start);
                let text = &self.text[self.start..];
                self.start = bytes.len();
                return Some(Line { text, ended: false });
            }
            self.hold(self.base + STRETCH);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines and their cells as the plain way finds them: split at each CR, LF or CRLF, then
    /// at each comma.
    fn plainly(text: &str) -> Vec<(String, Vec<usize>, bool)> {
        let mut out = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            let line = &rest[..end];
            let mut ends: Vec<usize> = line.match_indices(',').map(|(i, _)| i).collect();
            ends.push(line.len());
            let after = &rest[end..];
            out.push((line.to_string(), ends, !after.is_empty()));
            rest = &rest[end + usize::from(after.starts_with("\r\n")) + usize::from(!after.is_empty())..];
        }
        out
    }

    fn cut(text: &str) -> Vec<(String, Vec<usize>, bool)> {
        let mut lines = Lines::new(text);
        let mut ends = Vec::new();
        std::iter::from_fn(|| lines.next_line(&mut ends).map(|l| (l.text.to_string(), ends.clone(), l.ended))).collect()
    }

    #[test]
    fn crlf_lone_cr_blank_lines_and_a_last_line_without_an_end() {
        assert_eq!(cut(""), []);
        assert_eq!(
            cut("a,b\r\n\r\nc\rd\n,\r"),
            [
                ("a,b".into(), vec![1, 3], true),
                (String::new(), vec![0], true),
                ("c".into(), vec![1], true),
                ("d".into(), vec![1], true),
                (",".into(), vec![0, 1], true),
            ]
        );
        assert_eq!(cut("张,三"), [("张,三".into(), vec![3, 7], false)]);
        // A CR, then a line, then an LF: that LF ends the line, not a CRLF (and the next one
        // ends an empty line).
        assert_eq!(
            cut("\ra\n\n"),
            [(String::new(), vec![0], true), ("a".into(), vec![1], true), (String::new(), vec![0], true)]
        );
    }

    proptest::proptest! {
        /// Whatever bytes a stretch holds, SSE2 marks what the byte-by-byte way marks.
        #[test]
        fn every_way_marks_the_same(stretch in proptest::collection::vec(proptest::sample::select(
            vec![b',', b'\n', b'\r', b'-', b'+', b'\x0b', b'\x0c', 0x2C ^ 0x80, 0x8A, 0x8D, 0xE5, 0x00, 0xFF, b'a'],
        ), STRETCH)) {
            let stretch: [u8; STRETCH] = stretch.try_into().expect("64 bytes");
            proptest::prop_assert_eq!(marks(&stretch), marks_bytewise(&stretch));
        }

        /// Lines and cells are cut where the plain way cuts them, wherever the line ends and
        /// commas fall against the 64-byte stretches (a CRLF split between two of them too).
        #[test]
        fn lines_are_cut_as_the_plain_way_cuts_them(pieces in proptest::collection::vec(proptest::sample::select(
            vec!["0001", "张三", "12.5", ",", ",,,", "\n", "\r", "\r\n", "\r\n\r\n", " ", "\u{3000}", ""],
        ), 0..120)) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(cut(&text), plainly(&text));
        }
    }
}
