"""The kinds and statuses of the records, each with the label people read.

Stored as their string values (`tracker.extensions.string_enum`); the labels go through
gettext, so a translation needs no code.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from tracker.i18n import lazy_text


class LabelledEnum(str, enum.Enum):
    @property
    def label(self) -> str:
        return lazy_text(LABELS[type(self)][self.value])


class MeasureKind(LabelledEnum):
    PRE_TRIAL_DETENTION = "pre_trial_detention"
    HOUSE_ARREST = "house_arrest"
    BAIL = "bail"
    TRAVEL_BAN = "travel_ban"
    COMPULSORY_TREATMENT = "compulsory_treatment"
    RELEASED = "released"


class DefendantStatus(LabelledEnum):
    PRE_TRIAL_DETENTION = "pre_trial_detention"
    HOUSE_ARREST = "house_arrest"
    BAIL = "bail"
    TRAVEL_BAN = "travel_ban"
    COMPULSORY_TREATMENT = "compulsory_treatment"
    IMPRISONED = "imprisoned"
    SUSPENDED_SENTENCE = "suspended_sentence"
    RELEASED = "released"
    AT_LARGE = "at_large"


class Outcome(LabelledEnum):
    IMPRISONMENT = "imprisonment"
    SUSPENDED = "suspended"
    FINE = "fine"
    COMPULSORY_TREATMENT = "compulsory_treatment"
    ACQUITTAL = "acquittal"
    DROPPED = "dropped"


class Instance(LabelledEnum):
    FIRST = "first"
    APPEAL = "appeal"
    CASSATION = "cassation"


class HearingKind(LabelledEnum):
    CUSTODY_EXTENSION = "custody_extension"
    PRELIMINARY = "preliminary"
    TRIAL = "trial"
    VERDICT = "verdict"
    APPEAL = "appeal"
    CASSATION = "cassation"
    OTHER = "other"


class HearingStatus(LabelledEnum):
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"  # postponed with no new date fixed yet
    HELD = "held"
    CANCELLED = "cancelled"


class LettersStatus(LabelledEnum):
    UNKNOWN = "unknown"
    REACH = "reach"
    BLOCKED = "blocked"


LABELS: dict[type, dict[str, object]] = {}
LABELS[MeasureKind] = {
    MeasureKind.PRE_TRIAL_DETENTION.value: _l("pre-trial detention"),
    MeasureKind.HOUSE_ARREST.value: _l("house arrest"),
    MeasureKind.BAIL.value: _l("bail"),
    MeasureKind.TRAVEL_BAN.value: _l("travel ban"),
    MeasureKind.COMPULSORY_TREATMENT.value: _l("compulsory psychiatric treatment"),
    MeasureKind.RELEASED.value: _l("released"),
}
LABELS[DefendantStatus] = {
    DefendantStatus.PRE_TRIAL_DETENTION.value: _l("in pre-trial detention"),
    DefendantStatus.HOUSE_ARREST.value: _l("under house arrest"),
    DefendantStatus.BAIL.value: _l("on bail"),
    DefendantStatus.TRAVEL_BAN.value: _l("under travel ban"),
    DefendantStatus.COMPULSORY_TREATMENT.value: _l("in compulsory psychiatric treatment"),
    DefendantStatus.IMPRISONED.value: _l("serving a prison sentence"),
    DefendantStatus.SUSPENDED_SENTENCE.value: _l("suspended sentence"),
    DefendantStatus.RELEASED.value: _l("released"),
    DefendantStatus.AT_LARGE.value: _l("at large"),
}
LABELS[Outcome] = {
    Outcome.IMPRISONMENT.value: _l("imprisonment"),
    Outcome.SUSPENDED.value: _l("suspended sentence"),
    Outcome.FINE.value: _l("fine"),
    Outcome.COMPULSORY_TREATMENT.value: _l("compulsory treatment"),
    Outcome.ACQUITTAL.value: _l("acquittal"),
    Outcome.DROPPED.value: _l("case dropped"),
}
LABELS[Instance] = {
    Instance.FIRST.value: _l("first instance"),
    Instance.APPEAL.value: _l("appeal"),
    Instance.CASSATION.value: _l("cassation"),
}
LABELS[HearingKind] = {
    HearingKind.CUSTODY_EXTENSION.value: _l("custody extension"),
    HearingKind.PRELIMINARY.value: _l("preliminary hearing"),
    HearingKind.TRIAL.value: _l("trial session"),
    HearingKind.VERDICT.value: _l("verdict"),
    HearingKind.APPEAL.value: _l("appeal"),
    HearingKind.CASSATION.value: _l("cassation"),
    HearingKind.OTHER.value: _l("hearing"),
}
LABELS[HearingStatus] = {
    HearingStatus.SCHEDULED.value: _l("scheduled"),
    HearingStatus.POSTPONED.value: _l("postponed, new date not fixed"),
    HearingStatus.HELD.value: _l("held"),
    HearingStatus.CANCELLED.value: _l("cancelled"),
}
LABELS[LettersStatus] = {
    LettersStatus.UNKNOWN.value: _l("unknown whether letters reach"),
    LettersStatus.REACH.value: _l("letters reach"),
    LettersStatus.BLOCKED.value: _l("letters are not delivered"),
}

MEASURE_STATUS = {
    MeasureKind.PRE_TRIAL_DETENTION: DefendantStatus.PRE_TRIAL_DETENTION,
    MeasureKind.HOUSE_ARREST: DefendantStatus.HOUSE_ARREST,
    MeasureKind.BAIL: DefendantStatus.BAIL,
    MeasureKind.TRAVEL_BAN: DefendantStatus.TRAVEL_BAN,
    MeasureKind.COMPULSORY_TREATMENT: DefendantStatus.COMPULSORY_TREATMENT,
    MeasureKind.RELEASED: DefendantStatus.RELEASED,
}
