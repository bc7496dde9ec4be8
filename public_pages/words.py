"""Words for the codes records and findings carry (units, kinds of work, findings), written in
English and said in the reader's language through the catalogs. Tests keep each table to
its codes: `signing.units`, the event types, `traceability.findings`."""

from __future__ import annotations

from .i18n import N_, N_plural

UNITS = {
    "kg": N_("kg"),
    "g": N_("g"),
    "t": N_("t"),
    "jin": N_("jin (500 g)"),
    "box": N_("boxes"),
    "piece": N_("pieces"),
    "m3": N_("m³"),
    "mm": N_("mm"),
}
STEP_TITLES = {
    "batch": N_("Lot created"),
    "planting": N_("Planting"),
    "fertiliser": N_("Fertiliser applied"),
    "pesticide": N_("Pesticide applied"),
    "irrigation": N_("Irrigation"),
    "observation": N_("Field observation"),
    "harvest": N_("Harvest"),
    "packing": N_("Packing"),
    "shipping": N_("Shipped"),
    "receiving": N_("Received"),
    "inspection": N_("Inspection"),
    "recall": N_("Recall"),
    "correction": N_("Correction"),
    "certificate": N_("Certificate issued"),
}
# What a lot's records show that a buyer hears of first (`signing.lot_state`): a title ...
CONCERN_NAMES = {
    "phi_violation": N_("Harvest inside a pre-harvest interval"),
    "harvest_before_planting": N_("Harvest before planting"),
    "failed_inspection": N_("Failed inspection"),
    "quantity_exceeds_harvest": N_("More sold than harvested"),
    "recalled": N_("Recalled"),
}
# ... and a sentence, with the concern's values.
CONCERN_LINES = {
    "phi_violation": N_(
        "Harvested on %(harvested)s, only %(waited)d days after %(product)s was sprayed on %(sprayed)s. Its label asks for %(days)d days before picking (not before %(safe_from)s)."
    ),
    "harvest_before_planting": N_(
        "The harvest is dated %(harvested)s, before the planting on %(planted)s: one of the two dates is wrong."
    ),
    "failed_inspection": N_("The “%(test)s” of %(date)s failed."),
    "quantity_exceeds_harvest": N_(
        "%(out)s left this lot in all (log entries %(entries)s), but only %(held)s was harvested or brought into it."
    ),
    "recalled": N_("Recalled on %(date)s by %(by)s: %(reason)s"),
}
# How a record was signed, as its signer's key entry says (`signing.payloads.signed_how`, protocol
# §9): the line under each record of a lot's timeline ("": a key entry the page could not read) ...
SIGNED_LINES = {
    "phone": N_("Signed by %(who)s on their own phone · log entry %(index)d"),
    "own_key": N_("Signed by %(who)s with their own key · log entry %(index)d"),
    "platform": N_("Signed by the platform on behalf of %(who)s · log entry %(index)d"),
    "": N_("Signed by %(who)s · log entry %(index)d"),
}
# ... and a few words beside each record in the grower's own list.
SIGNED_HOW = {
    "phone": N_("signed on your own phone"),
    "own_key": N_("signed with your own key"),
    "platform": N_("signed by the platform for you"),
}
# The bases of a 承诺达标合格证 (农业农村部令2025年第4号), as its record names them.
CERTIFICATE_BASES = {
    "自控自检": N_("Own quality control and testing"),
    "委托检测": N_("Commissioned testing"),
    "内部质量控制": N_("Internal quality control"),
    "自我承诺": N_("Self-commitment"),
}
# The commitment every 承诺达标合格证 carries, in the words of the rules.
PLEDGE = "我承诺生产销售的食用农产品：未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标。"
PHOTO_FLAGS = {  # a photo finding in a few words, beside the photo
    "exif_missing": N_("no time or place recorded"),
    "exif_time_mismatch": N_("taken at another time"),
    "gps_far_from_plot": N_("taken away from the plot"),
    "photo_reused": N_("photo used before"),
    "photo_near_duplicate": N_("looks like an earlier photo"),
}
PHOTO_SUMMARIES = {  # how many photos of a lot raised a finding, in a sentence
    "exif_missing": N_plural(
        "%(num)d photo records no capture time or place. That is common for forwarded photos and not suspicious by itself.",
        "%(num)d photos record no capture time or place. That is common for forwarded photos and not suspicious by itself.",
    ),
    "exif_time_mismatch": N_plural(
        "%(num)d photo was taken long before or after the time given for its record.",
        "%(num)d photos were taken long before or after the time given for their records.",
    ),
    "gps_far_from_plot": N_plural(
        "%(num)d photo was taken more than a few kilometres from the lot's plot.",
        "%(num)d photos were taken more than a few kilometres from the lot's plot.",
    ),
    "photo_reused": N_plural(
        "%(num)d photo was already used for another lot or by another grower.",
        "%(num)d photos were already used for another lot or by another grower.",
    ),
    "photo_near_duplicate": N_plural(
        "%(num)d photo looks the same as an earlier photo used elsewhere.",
        "%(num)d photos look the same as earlier photos used elsewhere.",
    ),
}


FINDING_NAMES = {
    "exif_missing": N_("Photo without time or place"),
    "exif_time_mismatch": N_("Photo taken at another time"),
    "gps_far_from_plot": N_("Photo taken away from the plot"),
    "photo_reused": N_("Photo used before"),
    "photo_near_duplicate": N_("Photo like an earlier one"),
    "phi_violation": N_("Harvest inside a pre-harvest interval"),
    "harvest_before_planting": N_("Harvest before planting"),
    "backdated": N_("Backdated record"),
    "quantity_exceeds_harvest": N_("More packed than harvested"),
}
