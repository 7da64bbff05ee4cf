//! The rule sets (docs/rules2015.md): the 2014 audit of the time-sync commit
//! and Winchester's final 2015 audit, as configuration values the engine is
//! given. Each names its trait table (which records it distils), its match
//! criterion (which types join the usage trigger), the traits an audit keeps,
//! and the usage handler its pipelines run. Nothing else in the engine asks
//! which rule set it runs under.

use crate::event::{sym, Sym};

/// One rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RuleSet {
    /// Winchester at the time-sync commit (docs/checks.md).
    #[default]
    Y2014,
    /// Winchester's final usage audit with the StackTach v3 production definitions (docs/rules2015.md).
    Y2015,
}

/// The usage handler a rule set's pipelines run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// One verdict per stream (docs/checks.md).
    Usage2014,
    /// One result per `.exists`, warnings, a trailing-block U0 (docs/rules2015.md#checks).
    Usage2015,
}

const fn bit(s: Sym) -> u64 {
    1 << s.0
}

impl RuleSet {
    pub const ALL: [RuleSet; 2] = [RuleSet::Y2014, RuleSet::Y2015];

    pub fn name(self) -> &'static str {
        match self {
            RuleSet::Y2014 => "2014",
            RuleSet::Y2015 => "2015",
        }
    }

    pub fn parse(s: &str) -> Option<RuleSet> {
        RuleSet::ALL.into_iter().find(|r| r.name() == s)
    }

    /// Whether the rule set's trait table covers notifications of this type
    /// (docs/distillation.md#traits-2014, #traits-2015); others are not distilled.
    pub fn distills(self, event_type: &str) -> bool {
        match self {
            RuleSet::Y2014 => event_type.starts_with("compute.instance."),
            RuleSet::Y2015 => {
                event_type.starts_with("compute.instance.")
                    || event_type.starts_with("scheduler.run_instance.")
                    || event_type.starts_with("keypair.import.")
                    || event_type == "snapshot_instance"
                    || event_type == "rebuild_instance"
            }
        }
    }

    /// Match criterion 1 of the usage trigger (docs/streams.md#matching):
    /// the types that join by their timestamp's day, before the exclusion of
    /// `.exists` and the audit's own output types.
    pub fn matches_type(self, event_type: &str) -> bool {
        match self {
            RuleSet::Y2014 => event_type.starts_with("compute.instance."),
            RuleSet::Y2015 => {
                event_type.starts_with("compute.instance.")
                    || event_type.starts_with("keypair.import.")
                    || event_type == "snapshot_instance"
                    || event_type == "rebuild_instance"
            }
        }
    }

    pub fn handler(self) -> Handler {
        match self {
            RuleSet::Y2014 => Handler::Usage2014,
            RuleSet::Y2015 => Handler::Usage2015,
        }
    }

    /// The event types whose values are compared with the `.exists` (U2).
    pub fn operation_types(self) -> &'static [&'static str] {
        match self {
            RuleSet::Y2014 => &OPERATION_TYPES_2014,
            RuleSet::Y2015 => &OPERATION_TYPES_2015,
        }
    }

    /// The fields compared with an operation event, in order.
    pub fn operation_fields(self) -> &'static [Sym] {
        match self {
            RuleSet::Y2014 => &OPERATION_FIELDS_2014,
            RuleSet::Y2015 => &OPERATION_FIELDS_2015,
        }
    }

    /// The traits an audit keeps of an event of this type, as a mask of
    /// well-known symbols: what the trigger and the checks read, and no more.
    pub fn audit_mask(self, event_type: &str) -> u64 {
        let fields = self.operation_fields().iter().fold(0, |m, &s| m | bit(s));
        let exists = fields
            | bit(sym::STATE)
            | bit(sym::DELETED_AT)
            | bit(sym::AUDIT_PERIOD_BEGINNING)
            | bit(sym::AUDIT_PERIOD_ENDING)
            | bit(sym::LAUNCHED_AT);
        bit(sym::INSTANCE_ID)
            | match event_type {
                "compute.instance.exists" => exists,
                "compute.instance.delete.end" => bit(sym::LAUNCHED_AT) | bit(sym::DELETED_AT),
                // Not compared under 2014, but the explanations cite it (docs/checks.md#u2).
                "compute.instance.finish_resize.end" => fields,
                t if self.operation_types().contains(&t) => fields,
                _ => 0,
            }
    }
}

/// The operations the 2014 checks compare (docs/checks.md#u2).
/// `compute.instance.resize.finish.end` is what the original listed; nova emits
/// `compute.instance.finish_resize.end`, which is therefore not compared.
pub const OPERATION_TYPES_2014: [&str; 9] = [
    "compute.instance.rebuild.start",
    "compute.instance.resize.prep.start",
    "compute.instance.resize.revert.start",
    "compute.instance.rescue.start",
    "compute.instance.create.end",
    "compute.instance.rebuild.end",
    "compute.instance.resize.finish.end",
    "compute.instance.resize.revert.end",
    "compute.instance.rescue.end",
];

/// The operations the 2015 checks compare: only the last of a block counts
/// (docs/rules2015.md#checks).
pub const OPERATION_TYPES_2015: [&str; 3] =
    ["compute.instance.rebuild.end", "compute.instance.finish_resize.end", "compute.instance.rescue.end"];

pub const OPERATION_FIELDS_2014: [Sym; 6] =
    [sym::LAUNCHED_AT, sym::INSTANCE_TYPE_ID, sym::TENANT_ID, sym::OS_ARCHITECTURE, sym::OS_VERSION, sym::OS_DISTRO];

pub const OPERATION_FIELDS_2015: [Sym; 6] =
    [sym::LAUNCHED_AT, sym::INSTANCE_FLAVOR_ID, sym::TENANT_ID, sym::OS_ARCHITECTURE, sym::OS_VERSION, sym::OS_DISTRO];

/// What a command runs: one rule set, or both side by side (docs/rules2015.md#side-by-side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    One(RuleSet),
    Both,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::One(RuleSet::Y2014)
    }
}

impl Rules {
    pub fn parse(s: &str) -> Option<Rules> {
        match s {
            "both" => Some(Rules::Both),
            s => RuleSet::parse(s).map(Rules::One),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rules::One(r) => r.name(),
            Rules::Both => "both",
        }
    }

    /// The rule sets replayed, the primary (whose streams a report lists) first.
    pub fn sets(self) -> &'static [RuleSet] {
        match self {
            Rules::One(RuleSet::Y2014) => &[RuleSet::Y2014],
            Rules::One(RuleSet::Y2015) => &[RuleSet::Y2015],
            Rules::Both => &RuleSet::ALL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_set_distils_and_matches_its_own_types() {
        assert!(RuleSet::Y2015.distills("scheduler.run_instance.start"));
        assert!(!RuleSet::Y2015.matches_type("scheduler.run_instance.start"));
        assert!(RuleSet::Y2015.matches_type("snapshot_instance"));
        assert!(!RuleSet::Y2014.distills("snapshot_instance"));
        assert!(!RuleSet::Y2014.distills("keypair.import.end"));
        assert!(RuleSet::Y2015.matches_type("keypair.import.end"));
    }

    #[test]
    fn the_audit_keeps_what_each_rule_set_compares() {
        let m = RuleSet::Y2015.audit_mask("compute.instance.finish_resize.end");
        assert_ne!(m & bit(sym::INSTANCE_FLAVOR_ID), 0);
        assert_eq!(m & bit(sym::INSTANCE_TYPE_ID), 0);
        let m = RuleSet::Y2014.audit_mask("compute.instance.resize.prep.start");
        assert_ne!(m & bit(sym::INSTANCE_TYPE_ID), 0);
        assert_eq!(RuleSet::Y2015.audit_mask("compute.instance.resize.prep.start"), bit(sym::INSTANCE_ID));
    }

    #[test]
    fn rules_parse() {
        assert_eq!(Rules::parse("both"), Some(Rules::Both));
        assert_eq!(Rules::parse("2015").map(|r| r.sets()), Some(&[RuleSet::Y2015][..]));
        assert_eq!(Rules::parse("2016"), None);
    }
}

/// Which traits an archive keeps of each event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// Every trait (the UI, `events`).
    #[default]
    All,
    /// Only what the usage trigger and the rule set's checks read
    /// ([`RuleSet::audit_mask`]): `instance_id` everywhere, the checked fields
    /// on `.exists`, on the compared operations and on `delete.end`. Every trait is still
    /// converted, so the same records are rejected; the audit just does not hold values it never
    /// reads (under both rule sets, an event standing for the two holds what either reads).
    Audit,
}

impl Keep {
    /// The names (bits by symbol) an event of this type keeps under `set`.
    pub fn mask(self, set: RuleSet, event_type: &str) -> u64 {
        match self {
            Keep::All => u64::MAX,
            // The tenant too: reports name each stream's tenant, and the load may filter by it.
            Keep::Audit => set.audit_mask(event_type) | (1 << sym::TENANT_ID.0),
        }
    }
}
