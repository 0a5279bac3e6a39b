//! Demo data for the embedded simulators: two or three accounts per utility, one household, and
//! the ID card holder of that household.
//! The account numbers pass `AccountRule::default_for` (water 9 digits, power and gas 10, last
//! digit Luhn) so that they can be typed at the kiosk.

use super::book::{AccountSeed, CardLimits, CardSeed};
use super::joint::{HolderSeed, Household};
use kiosk_core::{Fen, Utility};

/// The demo household's joint account.
pub const JOINT_ACCOUNT: &str = "3900000005";
/// The holder of the demo household: [`crate::holder_digest`] of the ID number on the
/// simulated ID card, `idcard::sim::Identity::synthetic(20261123)` (a made-up person), which the
/// kiosk's simulated customer inserts.
pub const DEMO_HOLDER: &str = "f91873a8e76326cd56851ef433f7102b583c5e224b8ded83d1bf4c04ac11b4fe";
/// The prepaid gas card of the demo account 3300000019; one purchase is 10 to 1000 yuan in whole
/// yuan ([`CardLimits::DEMO_GAS`]).
pub const DEMO_CARD: &str = "8800000013";

fn seed(account: &str, amount_due_fen: i64, holder: &str, address: &str) -> AccountSeed {
    AccountSeed {
        account: account.into(),
        amount_due_fen,
        holder_masked: holder.into(),
        address_masked: address.into(),
        due_date: "2026-12-15".into(),
        period: "2026-11".into(),
        closed: false,
        prepayment: false,
        card: None,
    }
}

/// An account whose biller credits more than is due as prepayment (预存电费).
fn prepaying(seed: AccountSeed) -> AccountSeed {
    AccountSeed { prepayment: true, ..seed }
}

/// The seeded accounts of `utility`.
pub fn seeds(utility: Utility) -> Vec<AccountSeed> {
    match utility {
        Utility::Water => vec![
            seed("310000005", 3150, "张*明", "上海市浦东新区**路**弄**号"),
            seed("310000013", 5820, "李*华", "上海市徐汇区**路**号"),
            seed("310000021", 2740, "王*芳", "上海市静安区**路**弄**号"),
        ],
        Utility::Power => vec![
            prepaying(seed("3200000010", 12680, "张*明", "上海市浦东新区**路**弄**号")),
            prepaying(seed("3200000028", 8935, "陈*", "上海市黄浦区**路**号")),
            prepaying(seed("3200000036", 10420, "王*芳", "上海市静安区**路**弄**号")),
        ],
        Utility::Gas => vec![
            seed("3300000001", 4560, "张*明", "上海市浦东新区**路**弄**号"),
            AccountSeed {
                card: Some(CardSeed {
                    card_no: DEMO_CARD.into(),
                    purchase_count: 3,
                    limits: Some(CardLimits::DEMO_GAS),
                }),
                ..seed("3300000019", 0, "刘*国", "上海市普陀区**路**号")
            },
            seed("3300000027", 3870, "王*芳", "上海市静安区**路**弄**号"),
        ],
    }
}

/// The seeded household: the third account of each utility.
pub fn household() -> Household {
    Household {
        joint_account: JOINT_ACCOUNT.into(),
        holder_masked: "王*芳".into(),
        water: Some("310000021".into()),
        power: Some("3200000036".into()),
        gas: Some("3300000027".into()),
    }
}

/// The demo holder's accounts: the demo household's joint account, then its members.
pub fn holder() -> HolderSeed {
    HolderSeed::of_household(DEMO_HOLDER, &household())
}

/// Every demo account with its amount due as seeded, for `yizhan sim accounts`: `(utility code
/// or "joint", account, amount due)`. The joint amount is the sum of its members.
pub fn demo_accounts() -> Vec<(String, String, Fen)> {
    let mut out: Vec<(String, String, Fen)> = Utility::ALL
        .into_iter()
        .flat_map(|u| {
            seeds(u).into_iter().map(move |s| (u.code().to_string(), s.account, Fen(s.amount_due_fen)))
        })
        .collect();
    let joint = household();
    let members = [joint.water, joint.power, joint.gas];
    let total = out.iter().filter(|(_, a, _)| members.iter().flatten().any(|m| m == a)).map(|(_, _, f)| *f);
    out.push(("joint".into(), joint.joint_account, Fen::sum(total).unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::AccountRule;

    #[test]
    fn demo_accounts_pass_the_default_rules() {
        for utility in Utility::ALL {
            for seed in seeds(utility) {
                assert!(
                    AccountRule::default_for(utility).check(utility, &seed.account).is_ok(),
                    "{}",
                    seed.account
                );
            }
        }
        let joint = crate::client::joint_account_rule();
        assert!(joint.check(Utility::Power, JOINT_ACCOUNT).is_ok());
        let accounts = demo_accounts();
        assert_eq!(accounts.len(), 10);
        assert_eq!(accounts.last().map(|a| a.2), Some(Fen(2740 + 10420 + 3870)));
        assert!(accounts.contains(&("water".into(), "310000005".into(), Fen(3150))));
    }

    #[test]
    fn the_demo_holder_has_the_demo_joint_account_first() {
        let seed = holder();
        assert!(crate::is_holder_digest(&seed.holder));
        let kinds: Vec<(&str, &str)> =
            seed.accounts.iter().map(|a| (a.utility.as_str(), a.account.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("joint", JOINT_ACCOUNT),
                ("water", "310000021"),
                ("power", "3200000036"),
                ("gas", "3300000027")
            ]
        );
        assert!(demo_accounts().iter().any(|(kind, account, _)| kind == "joint" && account == JOINT_ACCOUNT));
    }
}
