//! Error codes, the way every keyward core writes them.
//!
//! Each core lists its codes once, in a list macro (`opaque_error_codes!`,
//! `seal_error_codes!`, …) that a binding also expands into its mirror. This
//! crate holds what turns such a list into the core's `ErrorCode` enum, and
//! the check every list must pass (at compile time), so that the cores do not
//! each carry a copy.

#![no_std]
#![forbid(unsafe_code)]

/// Expands an error-code list into its enum, with `ALL` and `as_str`:
/// `code_enum!(Name { Variant = "ERR_…", … })`, or with wire numbers
/// `code_enum!(Name: u16 { Variant = 0x0001 => "ERR_…", … })`, which makes
/// the enum `#[repr]` of that type with those discriminants.
///
/// ```
/// keyward_codes::code_enum!(Codes { A = "ERR_A", B = "ERR_B", });
/// assert_eq!(Codes::B.as_str(), "ERR_B");
/// ```
///
/// A code listed twice, or one without the `ERR_` prefix, does not build:
///
/// ```compile_fail
/// keyward_codes::code_enum!(Codes { A = "ERR_A", B = "ERR_A", });
/// ```
///
/// ```compile_fail
/// keyward_codes::code_enum!(Codes { A = "ERR_A", B = "E_B", });
/// ```
#[macro_export]
macro_rules! code_enum {
    ($(#[$enum_doc:meta])* $enum:ident: $repr:ident {
        $($(#[$doc:meta])* $variant:ident = $number:literal => $code:literal,)*
    }) => {
        $crate::code_enum!(@enum [$(#[$enum_doc])* #[repr($repr)]] $enum { $($(#[$doc])* $variant = $number => $code,)* });
    };
    ($(#[$enum_doc:meta])* $enum:ident { $($(#[$doc:meta])* $variant:ident = $code:literal,)* }) => {
        $crate::code_enum!(@enum [$(#[$enum_doc])*] $enum { $($(#[$doc])* $variant => $code,)* });
    };
    (@enum [$(#[$attr:meta])*] $enum:ident { $($(#[$doc:meta])* $variant:ident $(= $number:literal)? => $code:literal,)* }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum {
            $($(#[$doc])* $variant $(= $number)?,)*
        }

        const _: () = assert!(
            $crate::fits(&[$($code),*]),
            "error codes start with ERR_ and are listed once"
        );

        impl $enum {
            pub const ALL: [$enum; [$($code),*].len()] = [$($enum::$variant),*];

            /// The stable code string (Node convention), the `code` of the JS error.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $code,)*
                }
            }
        }
    };
}

/// Whether a list of codes is fit to publish: every code starts with `ERR_`
/// and none is listed twice (JavaScript tells errors apart by their code
/// alone). `code_enum!` checks its list with this at compile time, so a
/// core with a repeated or misnamed code does not build.
pub const fn fits(codes: &[&str]) -> bool {
    let mut i = 0;
    while i < codes.len() {
        if !starts_with(codes[i].as_bytes(), b"ERR_") {
            return false;
        }
        let mut j = 0;
        while j < i {
            if equal(codes[i].as_bytes(), codes[j].as_bytes()) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

const fn starts_with(s: &[u8], prefix: &[u8]) -> bool {
    if s.len() < prefix.len() {
        return false;
    }
    let mut k = 0;
    while k < prefix.len() {
        if s[k] != prefix[k] {
            return false;
        }
        k += 1;
    }
    true
}

const fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && starts_with(a, b)
}

#[cfg(test)]
mod tests {
    use super::fits;

    code_enum!(
        /// Named codes.
        Plain {
            /// The first.
            One = "ERR_ONE",
            Two = "ERR_TWO",
        }
    );

    code_enum!(Numbered: u16 {
        First = 0x0001 => "ERR_FIRST",
        Tenth = 0x000A => "ERR_TENTH",
    });

    #[test]
    fn expands_both_forms() {
        assert_eq!(Plain::ALL.map(Plain::as_str), ["ERR_ONE", "ERR_TWO"]);
        assert_eq!(
            Numbered::ALL.map(Numbered::as_str),
            ["ERR_FIRST", "ERR_TENTH"]
        );
        assert_eq!(Numbered::Tenth as u16, 10);
    }

    #[test]
    fn fits_refuses_a_repeat_and_a_bad_prefix() {
        assert!(fits(&["ERR_A", "ERR_B"]));
        assert!(fits(&[]));
        assert!(!fits(&["ERR_A", "ERR_B", "ERR_A"]));
        assert!(!fits(&["ERR_A", "E_B"]));
        assert!(!fits(&["ERR"]));
        assert!(fits(&["ERR_A", "ERR_AB"]));
    }
}
