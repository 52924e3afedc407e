//! The public pool's rules: how many customers one person may own (in all and per level), how
//! long someone who released a customer must wait to claim it again, when an owned customer
//! returns to the pool (no follow-up for X days, no order for Y days, per level), and how many
//! customers one person may lock against that.

use serde::{Deserialize, Serialize};

use crm_kit::errors::Violations;
use crm_kit::errors::reason;
use crm_proto::customers as pb;

/// Caps and reclaim days for one level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRule {
    pub level_code: String,
    pub owned_cap: i32,
    pub no_follow_up_days: i32,
    pub no_order_days: i32,
}

/// The whole policy, stored as JSON in `settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolPolicy {
    pub level_rules: Vec<LevelRule>,
    pub total_owned_cap: i32,
    pub reclaim_cooldown_days: i32,
    pub lock_cap: i32,
    pub default_rule: LevelRule,
}

impl Default for PoolPolicy {
    /// Conservative defaults: 200 customers per person, 30 days cooldown, 10 locks, and
    /// reclaim after 90 days without a follow-up; no order rule until orders exist.
    fn default() -> Self {
        PoolPolicy {
            level_rules: Vec::new(),
            total_owned_cap: 200,
            reclaim_cooldown_days: 30,
            lock_cap: 10,
            default_rule: LevelRule {
                level_code: String::new(),
                owned_cap: 0,
                no_follow_up_days: 90,
                no_order_days: 0,
            },
        }
    }
}

impl PoolPolicy {
    /// The rule for a level (the default rule when the level has none).
    pub fn rule_for(&self, level_code: &str) -> &LevelRule {
        self.level_rules
            .iter()
            .find(|r| r.level_code == level_code)
            .unwrap_or(&self.default_rule)
    }

    /// Parses the wire policy, checking every number.
    pub fn from_proto(p: &pb::PoolPolicy, v: &mut Violations) -> PoolPolicy {
        let non_negative = |v: &mut Violations, field: String, n: i32| {
            if !(0..=100_000).contains(&n) {
                v.add(field, reason::OUT_OF_RANGE, "must be between 0 and 100000");
            }
        };
        non_negative(v, "policy.total_owned_cap".into(), p.total_owned_cap);
        non_negative(v, "policy.reclaim_cooldown_days".into(), p.reclaim_cooldown_days);
        non_negative(v, "policy.lock_cap".into(), p.lock_cap);
        let rule = |v: &mut Violations, prefix: String, r: &pb::LevelRule| {
            non_negative(v, format!("{prefix}.owned_cap"), r.owned_cap);
            non_negative(v, format!("{prefix}.no_follow_up_days"), r.no_follow_up_days);
            non_negative(v, format!("{prefix}.no_order_days"), r.no_order_days);
            LevelRule {
                level_code: r.level_code.trim().to_string(),
                owned_cap: r.owned_cap,
                no_follow_up_days: r.no_follow_up_days,
                no_order_days: r.no_order_days,
            }
        };
        let mut level_rules: Vec<LevelRule> = Vec::new();
        for (i, r) in p.level_rules.iter().enumerate() {
            let parsed = rule(v, format!("policy.level_rules[{i}]"), r);
            if parsed.level_code.is_empty() {
                v.add(
                    format!("policy.level_rules[{i}].level_code"),
                    reason::REQUIRED,
                    "is required",
                );
            } else if level_rules.iter().any(|x| x.level_code == parsed.level_code) {
                v.add(
                    format!("policy.level_rules[{i}].level_code"),
                    reason::DUPLICATE,
                    "each level may have one rule",
                );
            }
            level_rules.push(parsed);
        }
        let default_rule = rule(
            v,
            "policy.default_rule".into(),
            &p.default_rule.clone().unwrap_or_default(),
        );
        PoolPolicy {
            level_rules,
            total_owned_cap: p.total_owned_cap,
            reclaim_cooldown_days: p.reclaim_cooldown_days,
            lock_cap: p.lock_cap,
            default_rule: LevelRule {
                level_code: String::new(),
                ..default_rule
            },
        }
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::PoolPolicy {
        let rule = |r: &LevelRule| pb::LevelRule {
            level_code: r.level_code.clone(),
            owned_cap: r.owned_cap,
            no_follow_up_days: r.no_follow_up_days,
            no_order_days: r.no_order_days,
        };
        pb::PoolPolicy {
            level_rules: self.level_rules.iter().map(rule).collect(),
            total_owned_cap: self.total_owned_cap,
            reclaim_cooldown_days: self.reclaim_cooldown_days,
            lock_cap: self.lock_cap,
            default_rule: Some(rule(&self.default_rule)),
        }
    }
}
