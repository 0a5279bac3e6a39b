//! A prepaid IC card as its biller knows it (`GET /v1/prepaid/cards/{card_no}`): its account,
//! its purchase counts, what one purchase may be, and the purchases waiting for their card write.

use catalogue::Text;
use kiosk_core::{AccountNo, CardWriteData, Fen};

/// A prepaid IC card as its biller knows it: the account it belongs to, where its purchases
/// stand, its purchase limits and its pending purchases. `loaded_seq < issued_seq` means the meter
/// has not loaded the last purchase yet, and a new one would be refused
/// (`LAST_PURCHASE_NOT_LOADED`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrepaidCard {
    pub card_no: String,
    /// Checked against the client's account rule.
    pub account: AccountNo,
    pub holder_masked: String,
    /// The purchase count of the last purchase the biller issued for the card.
    pub issued_seq: u32,
    /// The purchase count the meter has loaded.
    pub loaded_seq: u32,
    /// What one purchase for this card may be; see [`PrepaidCard::check_amount`].
    pub limits: PurchaseLimits,
    /// The purchases the biller issued (wrote off) for this card whose card write it has not been
    /// told of (`card-written` not confirmed), at any kiosk or counter, by purchase sequence.
    /// What 补写卡 writes, whichever kiosk sold them.
    pub pending: Vec<PendingPurchase>,
}

impl PrepaidCard {
    /// Whether `amount` may be bought for this card, by the limits its biller published. Pure:
    /// check it before an order is journaled, so that no customer is charged for an amount the
    /// biller would refuse.
    pub fn check_amount(&self, amount: Fen) -> Result<(), AmountError> {
        self.limits.check(amount)
    }
}

/// A card's purchase limits: one purchase is at least `min`, at most `max`, and a multiple of
/// `step` (`min` and `max` are multiples of `step` too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PurchaseLimits {
    min: Fen,
    max: Fen,
    step: Fen,
}

impl PurchaseLimits {
    /// The limits if they make sense: `0 < step`, `0 < min <= max`, `min` and `max` multiples of
    /// `step`.
    pub fn new(min: Fen, max: Fen, step: Fen) -> Option<PurchaseLimits> {
        let sane = step.0 > 0 && min.0 > 0 && min <= max && min.0 % step.0 == 0 && max.0 % step.0 == 0;
        sane.then_some(PurchaseLimits { min, max, step })
    }

    pub fn min(&self) -> Fen {
        self.min
    }

    pub fn max(&self) -> Fen {
        self.max
    }

    pub fn step(&self) -> Fen {
        self.step
    }

    /// `Ok` for an amount from `min` to `max` that is a multiple of `step`.
    pub fn check(&self, amount: Fen) -> Result<(), AmountError> {
        let limits = *self;
        if amount < self.min {
            Err(AmountError::BelowMinimum { amount, limits })
        } else if amount > self.max {
            Err(AmountError::AboveMaximum { amount, limits })
        } else if amount.0 % self.step.0 != 0 {
            Err(AmountError::OffStep { amount, limits })
        } else {
            Ok(())
        }
    }
}

/// Why an amount may not be bought for a card. Every message names the card's limits. `Display`
/// is the English message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum AmountError {
    BelowMinimum {
        amount: Fen,
        limits: PurchaseLimits,
    },
    AboveMaximum {
        amount: Fen,
        limits: PurchaseLimits,
    },
    /// Not a multiple of the step.
    OffStep {
        amount: Fen,
        limits: PurchaseLimits,
    },
}

impl AmountError {
    pub fn amount(&self) -> Fen {
        match self {
            AmountError::BelowMinimum { amount, .. }
            | AmountError::AboveMaximum { amount, .. }
            | AmountError::OffStep { amount, .. } => *amount,
        }
    }

    pub fn limits(&self) -> PurchaseLimits {
        match self {
            AmountError::BelowMinimum { limits, .. }
            | AmountError::AboveMaximum { limits, .. }
            | AmountError::OffStep { limits, .. } => *limits,
        }
    }

    /// "¥5.00 is less than the smallest top-up for this card. A top-up is ¥10.00 to ¥1000.00, in
    /// steps of ¥1.00." (Chinese writes the amounts as 10.00元.)
    pub fn message(&self) -> Text {
        let yuan = |fen: Fen| Text::with("¥{}", [Text::verbatim(fen.to_yuan_string())]);
        let PurchaseLimits { min, max, step } = self.limits();
        let amount = yuan(self.amount());
        let what = match self {
            AmountError::BelowMinimum { .. } => {
                Text::with("{} is less than the smallest top-up for this card.", [amount])
            }
            AmountError::AboveMaximum { .. } => {
                Text::with("{} is more than the largest top-up for this card.", [amount])
            }
            AmountError::OffStep { .. } => Text::with("{0} is not a multiple of {1}.", [amount, yuan(step)]),
        };
        Text::with("{0} A top-up is {1} to {2}, in steps of {3}.", [what, yuan(min), yuan(max), yuan(step)])
    }
}

/// A purchase the biller issued for a card, written off, whose card write it has not been told
/// of: the data to write (补写卡) is the data the purchase reply gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingPurchase {
    /// The reference the purchase was made under (perhaps by another kiosk).
    pub reference: String,
    pub amount: Fen,
    /// The purchase sequence and the data to write.
    pub card: CardWriteData,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> PurchaseLimits {
        PurchaseLimits::new(Fen(1_000), Fen(100_000), Fen(100)).unwrap()
    }

    #[test]
    fn only_amounts_within_the_limits_and_on_a_step_pass() {
        let limits = demo();
        for ok in [1_000, 1_100, 55_500, 100_000] {
            assert_eq!(limits.check(Fen(ok)), Ok(()), "{ok}");
        }
        for (amount, below, above) in [
            (i64::MAX, false, true),
            (100_100, false, true),
            (999, true, false),
            (0, true, false),
            (-1_000, true, false),
            (i64::MIN, true, false),
        ] {
            let error = limits.check(Fen(amount)).unwrap_err();
            assert_eq!(matches!(error, AmountError::BelowMinimum { .. }), below, "{amount}");
            assert_eq!(matches!(error, AmountError::AboveMaximum { .. }), above, "{amount}");
            assert_eq!((error.amount(), error.limits()), (Fen(amount), limits));
        }
        assert!(matches!(limits.check(Fen(1_050)), Err(AmountError::OffStep { .. })));
    }

    #[test]
    fn the_messages_name_the_limits_in_both_languages() {
        let limits = demo();
        let too_much = limits.check(Fen(i64::MAX)).unwrap_err();
        assert_eq!(
            too_much.message().in_lang(catalogue::Lang::En),
            "¥92233720368547758.07 is more than the largest top-up for this card. \
             A top-up is ¥10.00 to ¥1000.00, in steps of ¥1.00."
        );
        assert_eq!(too_much.to_string(), too_much.message().in_lang(catalogue::Lang::En));
        assert_eq!(
            limits.check(Fen(500)).unwrap_err().message().in_lang(catalogue::Lang::Zh),
            "5.00元低于该卡单次最低充值金额。单次充值金额为10.00元至1000.00元，且须为1.00元的整数倍。"
        );
        assert_eq!(
            limits.check(Fen(1_050)).unwrap_err().message().in_lang(catalogue::Lang::Zh),
            "10.50元不是1.00元的整数倍。单次充值金额为10.00元至1000.00元，且须为1.00元的整数倍。"
        );
        assert_eq!(
            limits.check(Fen(1_050)).unwrap_err().message().in_lang(catalogue::Lang::En),
            "¥10.50 is not a multiple of ¥1.00. A top-up is ¥10.00 to ¥1000.00, in steps of ¥1.00."
        );
    }

    #[test]
    fn limits_that_make_no_sense_are_refused() {
        for (min, max, step) in [
            (0, 100_000, 100),
            (-100, 100_000, 100),
            (1_000, 100_000, 0),
            (1_000, 100_000, -100),
            (2_000, 1_000, 100),
            (1_050, 100_000, 100),
            (1_000, 100_050, 100),
        ] {
            assert_eq!(PurchaseLimits::new(Fen(min), Fen(max), Fen(step)), None, "{min} {max} {step}");
        }
        let one = PurchaseLimits::new(Fen(500), Fen(500), Fen(500)).unwrap();
        assert_eq!((one.min(), one.max(), one.step()), (Fen(500), Fen(500), Fen(500)));
        assert!(one.check(Fen(500)).is_ok());
    }
}
