//! A document's status moves as a table: the allowed moves, and a refusal that names the
//! document, both statuses and what the document can become instead, for every other move.
//!
//! ```
//! use crm_kit::transitions::{Move, Transitions};
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! enum Order { Draft, Confirmed, Shipped, Cancelled }
//!
//! const ORDER: Transitions<Order> = Transitions {
//!     document: "order",
//!     reason: "ORDER_STATUS_NOT_ALLOWED",
//!     name: |s| match s {
//!         Order::Draft => "draft",
//!         Order::Confirmed => "confirmed",
//!         Order::Shipped => "shipped",
//!         Order::Cancelled => "cancelled",
//!     },
//!     moves: &[
//!         Move { from: &[Order::Draft], to: Order::Confirmed },
//!         Move { from: &[Order::Draft, Order::Confirmed], to: Order::Cancelled },
//!         Move { from: &[Order::Confirmed], to: Order::Shipped },
//!     ],
//!     refusals: &[(Order::Shipped, Order::Cancelled, "a shipped order is returned, not cancelled")],
//! };
//!
//! assert!(ORDER.check(Order::Draft, Order::Confirmed, "orders/1").is_ok());
//! assert!(ORDER.check(Order::Shipped, Order::Cancelled, "orders/1").is_err());
//! assert_eq!(ORDER.targets(Order::Confirmed), vec![Order::Cancelled, Order::Shipped]);
//! ```

use crate::errors::{Error, Result};

/// Moves into `to` from any status in `from`.
#[derive(Debug)]
pub struct Move<S: 'static> {
    pub from: &'static [S],
    pub to: S,
}

/// The status moves of one kind of document.
#[derive(Debug)]
pub struct Transitions<S: 'static> {
    /// What the document is called in messages: "order", "quote".
    pub document: &'static str,
    /// The FAILED_PRECONDITION reason code of a refused move.
    pub reason: &'static str,
    /// A status's name in messages.
    pub name: fn(S) -> &'static str,
    pub moves: &'static [Move<S>],
    /// Moves refused with their own explanation (what to do instead) rather than the general one.
    pub refusals: &'static [(S, S, &'static str)],
}

impl<S: Copy + Eq + std::fmt::Debug> Transitions<S> {
    /// Whether a document in `from` may move to `to`.
    pub fn allows(&self, from: S, to: S) -> bool {
        self.moves.iter().any(|m| m.to == to && m.from.contains(&from))
    }

    /// The statuses a document in `from` may move to, in table order (what a screen offers).
    pub fn targets(&self, from: S) -> Vec<S> {
        let mut out: Vec<S> = Vec::new();
        for m in self.moves {
            if m.from.contains(&from) && !out.contains(&m.to) {
                out.push(m.to);
            }
        }
        out
    }

    /// Why `from` → `to` is refused, or `None` when it is allowed.
    pub fn refusal(&self, from: S, to: S) -> Option<String> {
        if self.allows(from, to) {
            return None;
        }
        let (name, document) = (self.name, self.document);
        if let Some((_, _, why)) = self.refusals.iter().find(|(f, t, _)| *f == from && *t == to) {
            return Some(format!(
                "{} {document} cannot become {}: {why}",
                a(name(from)),
                name(to)
            ));
        }
        if from == to {
            return Some(format!("the {document} is already {}", name(to)));
        }
        let targets = self.targets(from);
        Some(if targets.is_empty() {
            format!("{} {document} cannot change status", a(name(from)))
        } else {
            let names: Vec<&str> = targets.into_iter().map(name).collect();
            format!(
                "{} {document} cannot become {}; it can become {}",
                a(name(from)),
                name(to),
                names.join(", ")
            )
        })
    }

    /// FAILED_PRECONDITION (the table's reason, `subject` the document's resource name, the
    /// two statuses in the metadata) unless the move is allowed.
    pub fn check(&self, from: S, to: S, subject: &str) -> Result<()> {
        match self.refusal(from, to) {
            None => Ok(()),
            Some(message) => Err(Error::FailedPrecondition {
                reason: self.reason,
                message,
                subject: subject.to_string(),
                metadata: vec![
                    ("from".to_string(), (self.name)(from).to_string()),
                    ("to".to_string(), (self.name)(to).to_string()),
                ],
            }),
        }
    }
}

/// A word with its indefinite article: "a draft", "an accepted".
fn a(word: &str) -> String {
    let vowel = word.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Quote {
        Draft,
        Sent,
        Accepted,
        Rejected,
    }

    const ALL: [Quote; 4] = [Quote::Draft, Quote::Sent, Quote::Accepted, Quote::Rejected];

    const QUOTE: Transitions<Quote> = Transitions {
        document: "quote",
        reason: "QUOTE_STATUS_NOT_ALLOWED",
        name: |s| match s {
            Quote::Draft => "draft",
            Quote::Sent => "sent",
            Quote::Accepted => "accepted",
            Quote::Rejected => "rejected",
        },
        moves: &[
            Move {
                from: &[Quote::Draft],
                to: Quote::Sent,
            },
            Move {
                from: &[Quote::Sent],
                to: Quote::Accepted,
            },
            Move {
                from: &[Quote::Sent],
                to: Quote::Rejected,
            },
            Move {
                from: &[Quote::Rejected],
                to: Quote::Draft,
            },
        ],
        refusals: &[(Quote::Accepted, Quote::Draft, "revise it as a new quote")],
    };

    #[test]
    fn only_listed_moves_pass() {
        let allowed = [
            (Quote::Draft, Quote::Sent),
            (Quote::Sent, Quote::Accepted),
            (Quote::Sent, Quote::Rejected),
            (Quote::Rejected, Quote::Draft),
        ];
        for from in ALL {
            for to in ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(QUOTE.allows(from, to), expected, "{from:?} -> {to:?}");
                assert_eq!(
                    QUOTE.check(from, to, "quotes/1").is_ok(),
                    expected,
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn refusals_say_what_to_do() {
        let Err(Error::FailedPrecondition {
            reason,
            message,
            subject,
            metadata,
        }) = QUOTE.check(Quote::Draft, Quote::Accepted, "quotes/7")
        else {
            panic!("refused");
        };
        assert_eq!(reason, "QUOTE_STATUS_NOT_ALLOWED");
        assert_eq!(message, "a draft quote cannot become accepted; it can become sent");
        assert_eq!(subject, "quotes/7");
        assert_eq!(
            metadata,
            vec![("from".into(), "draft".into()), ("to".into(), "accepted".into())]
        );
        assert_eq!(
            QUOTE.refusal(Quote::Accepted, Quote::Draft).unwrap(),
            "an accepted quote cannot become draft: revise it as a new quote"
        );
        assert_eq!(
            QUOTE.refusal(Quote::Sent, Quote::Sent).unwrap(),
            "the quote is already sent"
        );
        assert_eq!(
            QUOTE.refusal(Quote::Accepted, Quote::Rejected).unwrap(),
            "an accepted quote cannot change status"
        );
        assert_eq!(QUOTE.targets(Quote::Sent), vec![Quote::Accepted, Quote::Rejected]);
    }
}
