"""Text analysis for the archive search: tokens → index keys → bilingual concepts.

A key is what documents and queries meet on. For a word it is its lemma (simplemma's
dictionaries, offline: they ship in the wheel), folded (lower case, no diacritics, ł → l),
and for Polish with up to two final vowels trimmed: simplemma sometimes gives a feminine or
genitive form as the lemma ("seniorami" → "seniora", "socjalna" → "socjalna" but
"socjalnych" → "socjalny"), and trimming makes them one key without a hand-made list.
A Polish word the dictionary lacks (a domain word, or one typed without diacritics) loses
its inflectional ending instead, which lands on the same key.

On top of words, a lexicon of social-policy concepts maps Polish and English phrases to
shared concept ids ("bezdomność", "homelessness", "rough sleeping" → ``c:homelessness``):
that is how a Polish query finds a record written only in English and the other way round.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from basics.text import fold

if TYPE_CHECKING:
    from .translations import Translations

LANGS = ("pl", "en")
CONCEPT_PREFIX = "c:"  # cannot clash with a word key: the tokeniser never yields ":"

# A number with inner separators ("4.1", "1,5", "2024-2026", "2024–2026", "10:00", "10/2024")
# or a trailing plus ("50+", "75+") is one token: a lone "1" must not match inside "4.1".
# Otherwise a token is a run of letters and digits.
_WORD = re.compile(r"\d+(?:[.,:/\-–]\d+)+\+?|\d+\+|[^\W_]+")
_DASHES = str.maketrans({"–": "-", "—": "-"})
_CACHE_LIMIT = 1 << 19
_VOWELS = frozenset("aeiouy")


def tokenize(text: str) -> Iterator[re.Match[str]]:
    """Words and numbers; hyphens, apostrophes and `_` split words ("long-term" → long, term),
    not numbers ("2024-2026", "4.1" and "50+" are one token each)."""
    return _WORD.finditer(text)


_PL_STOP = """a aby ach albo ale ani aż bardzo bez bo bowiem by być był była było były będzie
będą cali cała cały chociaż ci cię ciebie co coraz czy czyli często daleko dla dlaczego do
dobrze dość dr drugi dwa dwie dzięki gdy gdyż gdzie go i ich ile im inna inne inny innych iż
ja jak jaka jaki jakie jako je jeden jednak jego jej jest jeszcze jeśli jeżeli już ją każdy
kiedy kilka kto która które którego której który których którym którzy lub ma mają mamy
mi mimo mnie może można mu musi my na nad nam nas nasz nasza nasze natomiast nawet nich nie
niech nigdy nim niż no o od oraz on ona one oni ono około ono po pod podczas przed przez przy
raz również się sobie sposób swoje są ta tak takie także tam te tego tej ten też to tobie
toteż trzeba tu tutaj twoi ty tych tylko tym u w we według wiele więc wszyscy wszystkich
wszystko wśród właśnie z za zaś ze że żeby"""

_EN_STOP = """a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down during each
few for from further had has have having he her here hers herself him himself his how i if
in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours etc e.g i.e per via"""

STOPWORDS = frozenset(fold(w) for w in (_PL_STOP + " " + _EN_STOP).split())

# Polish inflectional endings (folded), longest first: the fallback for words simplemma's
# dictionary lacks — domain words ("wytchnieniowej", "teleopieki", "deinstytucjonalizacji")
# and forms typed without diacritics ("bezdomnosci", "seniorow"). Stripped, then trimmed like
# any key, they meet the key of their dictionary form: "wytchnieniowych" → "wytchnieniow" =
# "wytchnieniowa" → "wytchnieniow".
_PL_ENDINGS = ("iami", "ami", "ach", "ich", "ych", "ymi", "imi", "owi", "ego", "emu", "iem",
               "em", "om", "ow", "ej", "ym", "im")


def _pl_stem(folded: str) -> str:
    for ending in _PL_ENDINGS:
        if folded.endswith(ending) and len(folded) - len(ending) >= 4:
            return folded[: -len(ending)]
    return folded


# ---------------------------------------------------------------------------------------------
# The bilingual lexicon: concept id → (Polish phrases, English phrases). Phrases are written
# naturally; they are analysed with the same pipeline as documents, in both languages (a Polish
# text may say "Housing First"), so an inflected or diacritic-free mention matches too.
# Kept to terms whose meaning is stable across the two languages in social policy.
LEXICON: dict[str, tuple[str, str]] = {
    "unemployment": ("bezrobocie | bezrobotny | osoba bezrobotna | brak pracy | poszukujący pracy",
                     "unemployment | unemployed | jobless | jobseeker"),
    "long_term_unemployment": ("długotrwale bezrobotny | długotrwałe bezrobocie | długotrwale pozostający bez pracy",
                               "long-term unemployed | long-term unemployment | very long-term unemployed"),
    "employment": ("zatrudnienie | aktywizacja zawodowa | rynek pracy | pracodawca | reintegracja zawodowa | praca zarobkowa | miejsce pracy",
                   "employment | job | labour market | labor market | employer | vocational | paid work | supported employment | workplace"),
    "homelessness": ("bezdomność | bezdomny | kryzys bezdomności | noclegownia | schronisko dla bezdomnych | ogrzewalnia",
                     "homelessness | homeless | rough sleeping | rough sleeper | night shelter | homeless shelter"),
    "housing": ("mieszkanie | mieszkalnictwo | lokal mieszkalny | najem | czynsz",
                "housing | apartment | flat | dwelling | tenancy | rent | tenant"),
    "housing_first": ("housing first | najpierw mieszkanie", "housing first"),
    "supported_housing": ("mieszkanie chronione | mieszkanie wspomagane | mieszkanie treningowe | mieszkanie wspierane",
                          "supported housing | supported accommodation | sheltered housing | training flat | assisted living"),
    "seniors": ("senior | seniorka | osoba starsza | starszy człowiek | osoba w wieku senioralnym | emeryt | wiek emerytalny",
                "senior | older people | older person | older adult | elderly | pensioner | old age | later life | retired people"),
    "ageing": ("starzenie się | srebrna gospodarka", "ageing | aging | silver economy"),
    "respite_care": ("opieka wytchnieniowa | wytchnienie | odciążenie opiekuna", "respite care | respite | short break | carer break"),
    "carers": ("opiekun nieformalny | opiekun rodzinny | opiekun faktyczny | opiekun osoby niepełnosprawnej",
               "carer | caregiver | informal carer | family carer | unpaid carer"),
    "care": ("opieka | opiekować się", "care | caring"),
    "care_services": ("usługi opiekuńcze | specjalistyczne usługi opiekuńcze",
                      "care services | social care | care worker | care assistant"),
    "home_care": ("opieka domowa | opieka w domu | usługi opiekuńcze w domu | usługi opiekuńcze w miejscu zamieszkania | pielęgniarka środowiskowa",
                  "home care | homecare | domiciliary care | care at home | district nurse | community nursing | home nursing"),
    "long_term_care": ("opieka długoterminowa | dom pomocy społecznej | osoba niesamodzielna | niesamodzielność",
                       "long-term care | nursing home | care home | dependent person | dependency"),
    "deinstitutionalisation": ("deinstytucjonalizacja | usługi środowiskowe | opieka środowiskowa",
                               "deinstitutionalisation | deinstitutionalization | community-based care | community-based services"),
    "independent_living": ("niezależne życie | samodzielne życie | usamodzielnienie | samodzielność",
                           "independent living | independence | live independently"),
    "personal_assistance": ("asystent osobisty | asystencja osobista | asystent osoby niepełnosprawnej",
                            "personal assistant | personal assistance"),
    "disability": ("niepełnosprawność | niepełnosprawny | osoba z niepełnosprawnością | orzeczenie o niepełnosprawności",
                   "disability | disabled | people with disabilities | impairment | learning disability"),
    "foster_care": ("piecza zastępcza | rodzina zastępcza | rodzinny dom dziecka | placówka opiekuńczo-wychowawcza | dom dziecka",
                    "foster care | foster family | foster carer | children's home | residential care for children"),
    "family_support": ("wsparcie rodziny | asystent rodziny | rodzina w kryzysie | rodzina przeżywająca trudności",
                       "family support | family assistant | family in crisis | families in difficulty | family intervention"),
    "family": ("rodzina | rodzinny", "family | families"),
    "parenting": ("rodzicielstwo | rodzic | umiejętności wychowawcze | szkoła dla rodziców | kompetencje rodzicielskie",
                  "parenting | parent | parenting skills | parenting programme"),
    "children": ("dziecko | dzieci | małe dziecko | niemowlę | wczesne dzieciństwo",
                 "child | children | infant | baby | toddler | early childhood | early years"),
    "child_abuse": ("krzywdzenie dzieci | przemoc wobec dzieci | zaniedbanie dziecka | ochrona dzieci",
                    "child abuse | child maltreatment | child neglect | child protection | safeguarding"),
    "domestic_violence": ("przemoc domowa | przemoc w rodzinie | niebieska karta", "domestic violence | family violence"),
    "youth": ("młodzież | młody człowiek | młodzi ludzie | neet | absolwent", "youth | young people | young person | adolescent | neet | school leaver"),
    "social_economy": ("ekonomia społeczna | przedsiębiorstwo społeczne | spółdzielnia socjalna | podmiot ekonomii społecznej",
                       "social economy | social enterprise | social cooperative | work integration social enterprise | social business"),
    "cooperative": ("spółdzielnia", "cooperative"),
    "social_integration": ("integracja społeczna | reintegracja społeczna | wykluczenie społeczne | włączenie społeczne",
                           "social inclusion | social integration | social exclusion | reintegration"),
    "poverty": ("ubóstwo | ubogi | bieda | niedostatek | deprywacja", "poverty | poor | deprivation | low income | hardship"),
    "basic_income": ("dochód podstawowy | bezwarunkowy dochód podstawowy", "basic income | universal basic income | unconditional basic income"),
    "mental_health": ("zdrowie psychiczne | kryzys psychiczny | zaburzenie psychiczne | choroba psychiczna | psychiatria | psychiatryczny | depresja",
                      "mental health | mental illness | mental disorder | severe mental illness | psychiatric | psychiatry | depression"),
    "dementia": ("demencja | otępienie | choroba alzheimera", "dementia | alzheimer"),
    "loneliness": ("samotność | samotny | osamotnienie | izolacja społeczna", "loneliness | lonely | social isolation | isolation | isolated"),
    "intergenerational": ("międzypokoleniowy | pokolenie | młodzi i starsi", "intergenerational | multigenerational | generation | young and old"),
    "volunteering": ("wolontariat | wolontariusz | wolontariuszka", "volunteering | volunteer"),
    "mutual_aid": ("samopomoc | wzajemna pomoc | grupa wsparcia | wsparcie rówieśnicze",
                   "mutual aid | self-help | peer support | reciprocity | support group"),
    "time_bank": ("bank czasu", "time bank | timebank | timebanking | time credit"),
    "digital_inclusion": ("kompetencje cyfrowe | wykluczenie cyfrowe | umiejętności cyfrowe | internet | komputer | cyfrowy",
                          "digital skills | digital inclusion | digital exclusion | internet | computer | digital | online"),
    "telecare": ("teleopieka | opaska bezpieczeństwa | przycisk alarmowy | przycisk sos | centrum teleopieki",
                 "telecare | personal alarm | alarm button | emergency button | wristband"),
    "day_centre": ("dzienny dom | dom dziennego pobytu | dzienny dom pomocy | klub seniora | klub senior+",
                   "day centre | day center | day care centre | senior club"),
    "food_waste": ("marnowanie żywności | niemarnowanie | nadwyżka żywności | jadłodzielnia | lodówka społeczna",
                   "food waste | food sharing | foodsharing | surplus food | community fridge | public fridge"),
    "food": ("żywność | jedzenie | posiłek", "food | meal"),
    "migrants": ("migrant | uchodźca | cudzoziemiec | imigrant | osoba z doświadczeniem migracji",
                 "migrant | refugee | asylum seeker | foreigner | immigrant"),
    "addiction": ("uzależnienie | uzależniony | alkoholizm | narkotyki | trzeźwość", "addiction | addicted | substance use | alcohol | drug"),
    "prison": ("zakład karny | więzienie | więzień | osadzony | skazany | były więzień",
               "prison | prisoner | ex-offender | offender | incarceration | probation"),
    "restorative_justice": ("sprawiedliwość naprawcza | mediacja | pokrzywdzony | sprawca | naprawienie szkody",
                            "restorative justice | mediation | victim | offender | victim-offender mediation | reparation"),
    "social_services": ("pomoc społeczna | ośrodek pomocy społecznej | usługi społeczne | pracownik socjalny | centrum usług społecznych | ops | mops | gops",
                        "social services | social assistance | social welfare | social worker | social care | welfare"),
    "local_government": ("samorząd | gmina | powiat | jednostka samorządu terytorialnego | urząd miasta",
                         "local government | municipality | local authority | council | municipal"),
    "participation": ("budżet obywatelski | budżet partycypacyjny | partycypacja | konsultacje społeczne | współdecydowanie",
                      "participatory budgeting | participatory budget | participation | citizen participation | public consultation"),
    "community": ("społeczność lokalna | sąsiedztwo | sąsiad | sąsiedzki | organizowanie społeczności",
                  "community | neighbourhood | neighborhood | neighbour | neighbor | community organising"),
    "health": ("zdrowie | profilaktyka | lekarz | podstawowa opieka zdrowotna | przychodnia",
               "health | prevention | doctor | general practitioner | gp | primary care | healthcare"),
    "hospital": ("szpital | hospitalizacja", "hospital | hospitalisation | hospitalization"),
    "social_prescribing": ("przepisywanie społeczne | recepta społeczna | skierowanie na zajęcia", "social prescribing | link worker | community referral"),
    "education": ("edukacja | kształcenie | szkolenie | nauka | kurs | warsztat", "education | learning | training | course | workshop"),
    "lifelong_learning": ("uniwersytet trzeciego wieku | kształcenie ustawiczne | edukacja dorosłych",
                          "university of the third age | lifelong learning | adult education | u3a"),
    "mentoring": ("mentoring | mentor | tutoring | tutor", "mentoring | mentor | tutoring | tutor | befriending"),
    "school": ("szkoła | uczeń | nauczyciel", "school | pupil | student | teacher"),
    "innovation": ("innowacja społeczna | inkubator | mikroinnowacja | inkubacja | innowator",
                   "social innovation | incubator | incubation | innovator | micro-innovation"),
    "grant": ("grant | dotacja | dofinansowanie | mikrogrant", "grant | subsidy | funding | micro-grant"),
    "evaluation": ("ewaluacja | badanie ewaluacyjne | grupa kontrolna | badanie randomizowane",
                   "evaluation | randomised controlled trial | randomized controlled trial | control group | impact study"),
    "women": ("kobieta", "women | woman"),
    "men": ("mężczyzna", "men | man | male"),
    "rural": ("wieś | wiejski | obszar wiejski | mieszkańcy wsi", "rural | village | countryside | rural area"),
    "safety": ("bezpieczeństwo | bezpieczny", "safety | security | safe"),
    "accessibility": ("dostępność | bariera architektoniczna | dostępny", "accessibility | accessible | barrier-free"),
}


@dataclass(frozen=True)
class QueryToken:
    surface: str            # as typed
    folded: str             # folded surface, what typo tolerance compares
    keys: tuple[str, ...]   # candidate keys: the word read as Polish and as English
    readings: tuple[tuple[str, str], ...] = ()  # (language, key) of each reading: what is translated


class _Lemmatiser:
    """simplemma's dictionary lookup (plus its English suffix rules), nothing more.

    Dictionaries are loaded on first use. By default simplemma's low-memory ones: ~47 MB of
    memory for Polish instead of ~400 MB, loaded in a few seconds in every process. With a
    cache folder (`use_lemma_cache`, which the bot calls with a folder of its data) the same
    entries are read from a file built there once (`lemmas.DiskDictionaryFactory`): ~2 MB
    of memory at most, no load time, the same lemmas. simplemma's decomposition
    strategies are left out: they guess lemmas for unknown words (names, typos, words
    typed without diacritics), costing ~1 ms a word and often guessing wrong ("bezdomnosc"
    → "bezdomny"); for Polish, stripping the ending (`_pl_stem`) is cheaper and safer."""

    def __init__(self) -> None:
        self._lookup: Any = None  # simplemma's strategies, made on the first look-up
        self._rules: Any = None
        self.cache: Path | None = None

    def use_cache(self, folder: Path | None) -> None:
        if folder != self.cache:
            self.cache, self._lookup = folder, None

    def __call__(self, token: str, lang: str) -> str | None:
        """The lemma, or None when the dictionary does not know the word."""
        lookup = self._lookup
        if lookup is None:
            from simplemma.strategies import DictionaryLookupStrategy, RulesStrategy

            if self.cache is not None:
                from .lemmas import DiskDictionaryFactory

                factory: Any = DiskDictionaryFactory(self.cache)
            else:
                from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

                factory = LOW_MEMORY_DICTIONARY_FACTORY
            self._rules = RulesStrategy()
            lookup = self._lookup = DictionaryLookupStrategy(factory)
        return lookup.get_lemma(token, lang) or self._rules.get_lemma(token, lang)


_LEMMATISER = _Lemmatiser()


def lemma_cache_folder() -> Path | None:
    """The folder given to `use_lemma_cache`, if any."""
    return _LEMMATISER.cache

_TRANSLATIONS: dict[tuple, "Translations"] = {}  # (analyzer settings, cache folder) → dictionary
_TRANSLATIONS_LOCK = threading.Lock()


def use_lemma_cache(folder: Path | None) -> None:
    """Read the lemma dictionaries from files in `folder` (built there on first use, see
    `lemmas`) instead of holding them in memory; None: in memory. Analyzers made before the
    call keep the keys they already know, which are the same either way."""
    _LEMMATISER.use_cache(None if folder is None else Path(folder))


def _trim(key: str) -> str:
    # Two final vowels at most, never below 4 letters: "rodzina"→"rodzin", "bezrobocie"→"bezroboc".
    for _ in range(2):
        if len(key) > 4 and key[-1] in _VOWELS:
            key = key[:-1]
    return key


class Analyzer:
    """Turns text into keys. The switches exist for the quality benchmark's baselines:
    ``Analyzer.plain()`` is bare BM25 tokens, ``Analyzer.stemming()`` adds folding,
    stopwords and lemmas, the default adds the concept lexicon."""

    def __init__(self, *, folding: bool = True, lemmas: bool = True, stopwords: bool = True,
                 lexicon: dict[str, tuple[str, str]] | None = LEXICON) -> None:
        self.folding, self.lemmas, self.stopwords = folding, lemmas, stopwords
        self._lexicon_source = lexicon or {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] | None = None
        self._doc_phrases: dict[str, tuple[tuple[str, ...], tuple]] = {}
        self._key_cache: dict[str, dict[str, str]] = {}  # lang → lower-case token → key ("" = none)

    @classmethod
    def plain(cls) -> "Analyzer":
        return cls(folding=False, lemmas=False, stopwords=False, lexicon=None)

    @classmethod
    def stemming(cls) -> "Analyzer":
        return cls(lexicon=None)

    # -- words ---------------------------------------------------------------------------
    def key(self, token: str, lang: str) -> str | None:
        """The key of one token in `lang` ("pl", "en" or other), or None for a stopword."""
        cache = self._key_cache.get(lang)
        if cache is None:
            cache = self._key_cache[lang] = {}
        token = token.lower()
        key = cache.get(token)
        if key is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()  # crude bound; the working vocabulary refills it quickly
            key = cache[token] = self._key(token, lang) or ""
        return key or None

    def keys(self, tokens: list[str], lang: str) -> list[str]:
        """Keys of lower-case `tokens` (see `tokens`), stopwords dropped: the indexing path."""
        cache = self._key_cache.get(lang) or {}
        out = []
        for token in tokens:
            key = cache.get(token)
            if key is None:
                key = self.key(token, lang) or ""
                cache = self._key_cache[lang]
            if key:
                out.append(key)
        return out

    @staticmethod
    def tokens(text: str) -> list[str]:
        return _WORD.findall(text.lower())

    def _key(self, token: str, lang: str) -> str | None:
        if not self.folding:
            return token
        folded = fold(token)
        if self.stopwords and (folded in STOPWORDS or (len(folded) < 2 and not folded.isdigit())):
            return None
        if not folded.isalpha():
            return folded.translate(_DASHES)  # a number: exact, whatever dash was typed
        if not self.lemmas or lang not in LANGS:
            return folded
        lemma = _LEMMATISER(token, lang)
        if lemma is None:
            return _trim(_pl_stem(folded)) if lang == "pl" else folded
        lemma = fold(lemma)
        if self.stopwords and lemma in STOPWORDS:
            return None
        return _trim(lemma) if lang == "pl" else lemma

    def words(self, text: str, lang: str) -> list[tuple[re.Match[str], str]]:
        """(token match, key) for each token of `text` that is not a stopword."""
        key = self.key
        return [(m, k) for m in tokenize(text) if (k := key(m.group(), lang)) is not None]

    def query(self, text: str) -> list[QueryToken]:
        """Query tokens with their Polish and English readings: a query has no language."""
        tokens = []
        for m in tokenize(text):
            readings = tuple((lang, k) for lang in LANGS if (k := self.key(m.group(), lang)))
            if readings:
                folded = fold(m.group()) if self.folding else m.group().lower()
                tokens.append(QueryToken(m.group(), folded, tuple(dict.fromkeys(k for _, k in readings)), readings))
        return tokens

    # -- translations --------------------------------------------------------------------
    def fresh(self) -> "Analyzer":
        """An analyzer giving the same word keys, with none of this one's caches or concepts."""
        return Analyzer(folding=self.folding, lemmas=self.lemmas, stopwords=self.stopwords, lexicon=None)

    def translations(self) -> "Translations | None":
        """The Polish-English dictionary keyed by this analyzer's keys (see `translations`),
        opened on first use — built, the first time, in the lemma cache folder; shared by every
        analyzer with the same settings. None without folding (keys that are raw tokens)."""
        if not self.folding:
            return None
        folder = lemma_cache_folder()
        slot = (self.folding, self.lemmas, self.stopwords, folder)
        found = _TRANSLATIONS.get(slot)
        if found is None:
            with _TRANSLATIONS_LOCK:
                found = _TRANSLATIONS.get(slot)
                if found is None:
                    from .translations import open_translations

                    found = _TRANSLATIONS[slot] = open_translations(self, folder)
        return found

    # -- concepts ------------------------------------------------------------------------
    def _compiled(self) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        if self._phrases is None:
            phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
            for concept, sides in self._lexicon_source.items():
                for side in sides:
                    for phrase in side.split("|"):
                        for lang in LANGS:
                            keys = tuple(k for _, k in self.words(phrase, lang))
                            entry = (keys, CONCEPT_PREFIX + concept)
                            if keys and entry not in phrases.setdefault(keys[0], []):
                                phrases[keys[0]].append(entry)
            self._phrases = phrases
            # For documents: per first key, the one-word concepts and the longer phrases.
            self._doc_phrases = {
                first: (tuple(c for p, c in entries if len(p) == 1),
                        tuple((p, len(p), c) for p, c in entries if len(p) > 1))
                for first, entries in phrases.items()}
        return self._phrases

    def concept_spans(self, keys: Sequence[Iterable[str]]) -> list[tuple[int, int, str]]:
        """(first, last+1, concept) for every lexicon phrase found in a sequence of key sets
        (one set per token: a query token has a Polish and an English reading)."""
        if not self._lexicon_source:
            return []
        phrases = self._compiled()
        sets = [k if isinstance(k, (set, frozenset)) else set(k) for k in keys]
        found: list[tuple[int, int, str]] = []
        for i, options in enumerate(sets):
            for first in options:
                for phrase, concept in phrases.get(first, ()):
                    end = i + len(phrase)
                    if end <= len(sets) and all(phrase[j] in sets[i + j] for j in range(1, len(phrase))):
                        found.append((i, end, concept))
        return found

    def concepts(self, keys: list[str]) -> list[str]:
        """Concept ids found in a document's key sequence (one key per token), with repeats."""
        if not self._lexicon_source:
            return []
        self._compiled()
        phrases = self._doc_phrases
        found: list[str] = []
        for i in [i for i, key in enumerate(keys) if key in phrases]:
            single, longer = phrases[keys[i]]
            found += single
            for phrase, length, concept in longer:
                if tuple(keys[i:i + length]) == phrase:
                    found.append(concept)
        return found

    def warm_up(self) -> None:
        """Loads the dictionaries and compiles the lexicon now rather than on the first search."""
        self.key("rodzinom", "pl")
        self.key("families", "en")
        self._compiled()
        self.translations()


def guess_lang(text: str) -> str:
    """"pl" or "en" for a record that does not say: Polish letters or stopwords decide."""
    if any(c in "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ" for c in text):
        return "pl"
    words = [fold(m.group()) for m in tokenize(text[:500])]
    pl = sum(w in _PL_STOP_SET for w in words)
    en = sum(w in _EN_STOP_SET for w in words)
    return "pl" if pl > en else "en"


_PL_STOP_SET = frozenset(fold(w) for w in _PL_STOP.split())
_EN_STOP_SET = frozenset(fold(w) for w in _EN_STOP.split())
