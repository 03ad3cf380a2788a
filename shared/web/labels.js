// labels.js — the one table of words for the protocol's codes (protocol.md §5), shown by both
// the tablet app and the coordinator dashboard. Change a label here and both apps change with
// it; tests/web/labels.test.mjs fails if either app defines a label of its own again.
//
// No DOM here: Node imports this file as it is (tests/web/labels.test.mjs).

export const STATUSES = ['completed', 'no_answer', 'declined', 'rescheduled'];
export const STATUS_LABELS = {
  completed: 'Completed', no_answer: 'No answer', declined: 'Declined', rescheduled: 'Rescheduled',
};
export const STATUS_GLYPHS = { completed: '✓', no_answer: '⌂', declined: '✕', rescheduled: '↻' };

/** Every outcome of a visit, in the order the report and the visit form show them. */
export const OUTCOMES = ['crime_prevention_advice', 'fire_safety_check', 'smoke_detectors_fitted',
  'healthy_lifestyle_advice', 'community_involvement_info', 'first_aid_training', 'follow_up_required'];
/** The yes/no outcomes (smoke_detectors_fitted is a count, asked for apart). */
export const YES_NO_OUTCOMES = OUTCOMES.filter((code) => code !== 'smoke_detectors_fitted');
export const OUTCOME_LABELS = {
  crime_prevention_advice: 'Crime prevention advice',
  fire_safety_check: 'Home fire safety check',
  smoke_detectors_fitted: 'Smoke detectors fitted',
  healthy_lifestyle_advice: 'Healthier lifestyle advice',
  community_involvement_info: 'Community involvement information',
  first_aid_training: 'First aid training',
  follow_up_required: 'Follow-up required',
};

export const REFERRALS = ['fire_service', 'victim_support', 'adult_social_care', 'health', 'other'];
export const REFERRAL_LABELS = {
  fire_service: 'Fire service', victim_support: 'Victim support', adult_social_care: 'Adult social care',
  health: 'Health', other: 'Other',
};

/**
 * [[id, label], …]: every partner a visit can be referred to — the built-in ones in their
 * order, then the server's own (its questions of kind referral, from the statistics'
 * `referrals.partner_labels`, absent from an older server) by id.
 */
export function partnerOptions(referrals) {
  const own = referrals && typeof referrals.partner_labels === 'object' && referrals.partner_labels !== null
    ? referrals.partner_labels : {};
  const extra = Object.keys(own).filter((id) => !REFERRALS.includes(id)).sort();
  return [...REFERRALS.map((id) => [id, REFERRAL_LABELS[id]]), ...extra.map((id) => [id, String(own[id] || id)])];
}

/** The label of one partner, from the statistics' `referrals` (see partnerOptions). */
export function partnerLabel(referrals, id) {
  const found = partnerOptions(referrals).find(([key]) => key === id);
  return found ? found[1] : id;
}

/** The lawful bases on which a visit's referrals are shared with partners (a visit's share_basis). */
export const SHARE_BASES = ['consent', 'vital_interests', 'safeguarding'];
export const SHARE_BASIS_LABELS = {
  consent: 'Resident consented',
  vital_interests: 'Vital interests (risk to life or serious harm)',
  safeguarding: 'Safeguarding an adult or child at risk',
};

export const VULNERABILITIES = ['elderly', 'disability', 'repeat_victim', 'lives_alone', 'other'];
export const VULNERABILITY_LABELS = {
  elderly: 'Elderly', disability: 'Disability', repeat_victim: 'Repeat victim',
  lives_alone: 'Lives alone', other: 'Other',
};

/** Commute Aware messages. */
export const MESSAGES = ['vehicle_security', 'home_security', 'garden_tools', 'personal_belongings'];
export const MESSAGE_LABELS = {
  vehicle_security: 'Vehicle security', home_security: 'Home security',
  garden_tools: 'Garden tools', personal_belongings: 'Personal belongings',
};

export const ROLE_LABELS = { officer: 'Officer', pcso: 'PCSO', coordinator: 'Coordinator' };

export const ENTITY_LABELS = { household: 'Household', visit: 'Visit', commute_session: 'Commute Aware session' };

/** A record's local state on the tablet → a short label (synced: nothing to say). */
export const STATE_LABELS = {
  pending: 'Waiting to sync', unsynced: 'Waiting to sync', local: 'Waiting to sync',
  rejected: 'Refused by the server',
};

/** labels[code], or the code itself when the table has no word for it (a newer server's code). */
export const label = (labels, code) => (Object.prototype.hasOwnProperty.call(labels, code) ? labels[code] : String(code));

// Wards and stations by default (protocol.md §5.5): used only when the real list is unavailable.
export const DEFAULT_WARDS = ['Aldenham East', 'Aldenham West', 'Bentley Heath & The Royds',
  'Borehamwood Brookmeadow', 'Borehamwood Cowley Hill', 'Borehamwood Hillside',
  'Borehamwood Kenilworth', 'Bushey Heath', 'Bushey North', 'Bushey Park', 'Bushey St James',
  'Elstree', 'Potters Bar Furzefield', 'Potters Bar Oakmere', 'Potters Bar Parkfield', 'Shenley'];
export const DEFAULT_STATIONS = ['Potters Bar', 'Elstree & Borehamwood', 'Radlett'];
