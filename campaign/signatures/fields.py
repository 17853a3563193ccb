"""The sign form's built-in fields, default relationships and default consent texts."""

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from campaign.signatures.models import FieldMode

# In form order. Surname and given name are always asked and required.
BUILT_IN_FIELDS: dict[str, LazyString] = {
    "patronymic": _l("Patronymic"),
    "region": _l("Region"),
    "town": _l("Town or village"),
    "relationship": _l("Relationship to the person concerned"),
    "relative_name": _l("Name of your relative"),
    "relative_location": _l("Where they are held"),
    "children": _l("Children with them"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "postal_address": _l("Postal address"),
    "drawn_signature": _l("Signature"),
}
PRIVATE_FIELDS = frozenset({"email", "phone", "postal_address"})

DEFAULT_MODES: dict[str, FieldMode] = {
    "patronymic": FieldMode.optional,
    "region": FieldMode.required,
    "town": FieldMode.optional,
    "relationship": FieldMode.required,
    "relative_name": FieldMode.optional,
    "relative_location": FieldMode.optional,
    "children": FieldMode.optional,
    "email": FieldMode.optional,
    "phone": FieldMode.off,
    "postal_address": FieldMode.off,
    "drawn_signature": FieldMode.required,
}

DEFAULT_RELATIONSHIPS = {
    "ru": ["мать", "отец", "жена", "муж", "дочь", "сын", "сестра", "брат", "свекровь",
           "свёкор", "бабушка", "дедушка", "другой родственник", "сторонник"],
    "en": ["mother", "father", "wife", "husband", "daughter", "son", "sister", "brother",
           "mother-in-law", "father-in-law", "grandmother", "grandfather", "other relative",
           "supporter"],
}  # fmt: skip

DEFAULT_CONSENT = {
    "ru": (
        "Я даю согласие организаторам обращения на обработку моих персональных данных, "
        "указанных в этой форме, для подготовки и передачи обращения адресатам и для "
        "сообщения мне об ответе. Я могу отозвать подпись и согласие по личной ссылке."
    ),
    "en": (
        "I consent to the organisers of this appeal processing the personal data I give in "
        "this form, to prepare the appeal, hand it to its addressees and tell me of the "
        "answer. I can withdraw my signature and this consent with my private link."
    ),
}
