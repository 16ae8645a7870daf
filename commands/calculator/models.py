"""Built-in models for the KKZ problems, with Polish unit costs and their sources.

Every number carries where it comes from. Unit costs name the act, regulation or
public body; where the amount is our assumption (an average nobody publishes, a
price that varies by gmina) ``assumption=True`` says so. Every transition
probability carries an evidence grade (A randomised evidence transferable to
Poland … D assumption); without a Polish evaluation of the programme the effect
sizes here are assumptions, grade D, and the replies say so.

Money is zł per person-year; negative costs are public revenue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import CalcError, Number, Scenario


def T(pl: str, en: str) -> dict[str, str]:
    return {"pl": pl, "en": en}


@dataclass(frozen=True)
class UnitCost:
    value: float
    year: int
    source: dict[str, str]
    assumption: bool = False


@dataclass(frozen=True)
class Effect:
    value: float
    grade: str  # A, B, C or D (D = assumption)
    note: dict[str, str]


@dataclass(frozen=True)
class State:
    id: str
    label: dict[str, str]


@dataclass(frozen=True)
class Model:
    id: str
    name: dict[str, str]
    description: dict[str, str]
    unit: dict[str, str]  # who one "person" is
    programme: dict[str, str]  # what the action is
    states: tuple[State, ...]
    start: dict[str, float]  # key "start.<S>" -> people
    transitions: dict[str, Effect]  # key "<table>.<S>.<T>" -> probability with its grade
    costs: dict[str, UnitCost]  # key "cost.<S>.<payer>"
    programme_costs: dict[str, UnitCost]  # key "programme.cost.<S>.<payer>"
    programme_years: int
    main_effect: str
    aliases: dict[str, str] = field(default_factory=dict)
    horizon: int = 7
    discount_rate: float = 0.035

    def state_label(self, state: str, lang: str) -> str:
        for s in self.states:
            if s.id == state:
                return s.label.get(lang, s.label["en"])
        return state

    def defaults(self) -> dict[str, Number]:
        params: dict[str, Number] = {}
        params.update(self.start)
        params.update({k: e.value for k, e in self.transitions.items()})
        params.update({k: c.value for k, c in self.costs.items()})
        params.update({k: c.value for k, c in self.programme_costs.items()})
        params["programme.years"] = self.programme_years
        params["horizon"] = self.horizon
        params["discount_rate"] = self.discount_rate
        params["attribution"] = 0.0
        params["optimism_bias_benefits"] = 0.0
        params["optimism_bias_costs"] = 0.0
        return params

    def scenario(self) -> Scenario:
        return Scenario(
            states=tuple(s.id for s in self.states),
            params=self.defaults(),
            name=self.name["en"],
            model_id=self.id,
            main_effect=self.main_effect,
        )


# Shared figures ------------------------------------------------------------------

# Public revenue from one full-time minimum-wage job in 2026 (docs/calculator.md, worked example A).
MIN_WAGE_REVENUE = UnitCost(
    -26213, 2026,
    T("Dochód publiczny z pracy za płacę minimalną 2026: 4 806 zł brutto × 12 (rozporządzenie Rady "
      "Ministrów w sprawie minimalnego wynagrodzenia w 2026 r.); składki pracodawcy ok. 20,48 % "
      "(ZUS, FP, FGŚP), składki pracownika 13,71 %, składka zdrowotna 9 %, PIT 12 % minus 300 zł "
      "miesięcznie — nasze wyliczenie ok. 26,2 tys. zł (docs/calculator.md, przykład A: 26 213 zł). Całość przypisana "
      "„państwu” (w rzeczywistości część PIT trafia do samorządów).",
      "Public revenue from a full-time minimum-wage job in 2026: 4 806 zł gross × 12 (Council of "
      "Ministers regulation on the 2026 minimum wage); employer contributions about 20.48 % (ZUS, "
      "Labour Fund, FGŚP), employee contributions 13.71 %, health contribution 9 %, PIT 12 % less "
      "300 zł a month — our calculation, about 26.2 thousand zł (docs/calculator.md, example A: 26 213 zł). All of "
      "it is booked to the 'state' (in fact a share of PIT goes to local governments)."),
)

SOCIAL_BENEFITS = UnitCost(
    7260, 2025,
    T("Zasiłek okresowy przyjęty na 505 zł × 12 plus 1 200 zł zasiłków celowych rocznie (przykład A "
      "w docs/calculator.md). Zasiłek okresowy wypłaca gmina (zadanie własne z ustawy o pomocy społecznej z "
      "12 marca 2004 r., w dużej części finansowane dotacją z budżetu państwa). Średnie kwoty to "
      "założenie.",
      "Periodic benefit taken as 505 zł × 12 plus 1 200 zł of targeted benefits a year (docs/calculator.md, "
      "example A). The gmina pays the periodic benefit (its own task under the Act on social assistance "
      "of 12 March 2004, largely funded by a state subsidy). The average amounts are an assumption."),
    assumption=True,
)

D_NOTE = T("założenie — brak polskiej ewaluacji z grupą porównawczą", "assumption — no Polish evaluation "
           "with a comparison group")


def assumed(value: float, pl: str = "", en: str = "") -> Effect:
    """A rate nobody measured for this programme in Poland: grade D (the grade legend
    of every reply says D means an assumption)."""
    return Effect(value, "D", T(pl or D_NOTE["pl"], en or D_NOTE["en"]))


# The models ------------------------------------------------------------------------

UNEMPLOYMENT = Model(
    id="unemployment",
    name=T("Długotrwałe bezrobocie: aktywizacja", "Long-term unemployment: activation"),
    description=T("Rok aktywizacji osób długotrwale bezrobotnych korzystających z pomocy społecznej.",
                  "One year of activation for long-term unemployed people on social assistance."),
    unit=T("osoba", "person"),
    programme=T("aktywizacja społeczno-zawodowa (np. kontrakt socjalny, CIS/KIS)",
                "social and vocational activation (e.g. social contract, social integration centre)"),
    states=(State("U", T("bezrobotny długotrwale", "long-term unemployed")),
            State("E", T("pracujący", "employed"))),
    start={"start.U": 20},
    transitions={
        "inaction.U.E": assumed(0.10, "naturalne wyjście z bezrobocia (deadweight)", "natural exit from unemployment (deadweight)"),
        "inaction.E.U": assumed(0.15, "utrata pracy", "job loss"),
        "action.U.E": assumed(0.40, "efekt aktywizacji", "effect of activation"),
        "action.E.U": assumed(0.15, "utrata pracy", "job loss"),
    },
    costs={"cost.U.gmina": SOCIAL_BENEFITS, "cost.E.state": MIN_WAGE_REVENUE},
    programme_costs={
        "programme.cost.U.gmina": UnitCost(
            12000, 2026,
            T("Założony koszt roku aktywizacji jednego uczestnika (przykład A w docs/calculator.md).",
              "Assumed cost of one year of activation per participant (docs/calculator.md, example A)."),
            assumption=True),
    },
    programme_years=1,
    main_effect="action.U.E",
    aliases={"people": "start.U", "effect": "action.U.E", "deadweight": "inaction.U.E",
             "programme_cost": "programme.cost.U.gmina", "years": "programme.years"},
)

# Care placements: the gmina co-finances foster care at 10 % / 30 % / 50 % in the
# 1st / 2nd / 3rd+ year of a placement (Act of 9 June 2011 on family support and the
# foster-care system, art. 191); we split costs at the middle rate, 30 %.
_GMINA_SHARE = 0.30
_INSTITUTION_MONTH = 8425.0  # Ostrołęka, "Korczakówka", 2026
_FOSTER_MONTH = 1517.0


def _split(total: float, year: int, pl: str, en: str, payer_share: float) -> UnitCost:
    return UnitCost(round(total * payer_share, 2), year, T(pl, en))


_INST_PL = ("Placówka opiekuńczo-wychowawcza: średni miesięczny wydatek na dziecko 8 425 zł w 2026 r. "
            "(zarządzenie Prezydenta Ostrołęki, placówka „Korczakówka”; powiaty publikują 7 300–10 200 zł) "
            "× 12 = 101 100 zł; gmina współfinansuje 10/30/50 % w 1./2./3. roku pobytu (ustawa o wspieraniu "
            "rodziny i systemie pieczy zastępczej, art. 191) — przyjęto 30 %.")
_INST_EN = ("Care-and-upbringing institution: average monthly spending per child 8 425 zł in 2026 (order of "
            "the Mayor of Ostrołęka, 'Korczakówka'; counties publish 7 300–10 200 zł) × 12 = 101 100 zł; the "
            "gmina co-finances 10/30/50 % in the 1st/2nd/3rd year of a placement (Act on family support and "
            "the foster-care system, art. 191) — 30 % taken.")
_FOSTER_PL = ("Rodzina zastępcza niespokrewniona: świadczenie na utrzymanie dziecka 1 517 zł miesięcznie "
              "(od 1 czerwca 2024 r., ustawa o wspieraniu rodziny i systemie pieczy zastępczej; rodzina "
              "spokrewniona 1 002 zł) × 12 = 18 204 zł; bez wynagrodzenia rodzin zawodowych i koordynatora "
              "(dolne oszacowanie); udział gminy 30 % jak wyżej.")
_FOSTER_EN = ("Non-related foster family: maintenance benefit 1 517 zł a month (from 1 June 2024, Act on family "
              "support and the foster-care system; related family 1 002 zł) × 12 = 18 204 zł; without the pay "
              "of professional foster families and of the coordinator (a lower bound); gmina share 30 % as above.")

FAMILY = Model(
    id="family",
    name=T("Rodzina zagrożona umieszczeniem dziecka w pieczy: asystent rodziny",
           "Family at risk of a child's placement in care: family assistant"),
    description=T("Dwa lata pracy asystenta rodziny z rodzinami, w których dziecku grozi piecza zastępcza.",
                  "Two years of a family assistant for families whose child risks placement in care."),
    unit=T("rodzina z jednym dzieckiem zagrożonym pieczą (uproszczenie)",
           "family with one child at risk of placement (a simplification)"),
    programme=T("asystent rodziny (ustawa limituje obciążenie do 15 rodzin na asystenta)",
                "family assistant (the act caps the caseload at 15 families per assistant)"),
    states=(State("R", T("rodzina zagrożona", "family at risk")),
            State("F", T("dziecko w rodzinie zastępczej", "child in a foster family")),
            State("C", T("dziecko w placówce", "child in an institution")),
            State("S", T("rodzina ustabilizowana", "stabilised family"))),
    start={"start.R": 15},
    transitions={
        "inaction.R.F": assumed(0.05, "umieszczenie w rodzinie zastępczej", "placement in a foster family"),
        "inaction.R.C": assumed(0.03, "umieszczenie w placówce", "placement in an institution"),
        "inaction.R.S": assumed(0.10, "samodzielna stabilizacja", "stabilising unaided"),
        "inaction.F.S": assumed(0.05, "powrót dziecka do domu", "child returns home"),
        "inaction.C.S": assumed(0.05, "powrót dziecka do domu", "child returns home"),
        "inaction.S.R": assumed(0.05, "ponowny kryzys", "relapse into crisis"),
        "action.R.F": assumed(0.025, "umieszczenie przy wsparciu asystenta", "placement with an assistant"),
        "action.R.C": assumed(0.015, "umieszczenie przy wsparciu asystenta", "placement with an assistant"),
        "action.R.S": assumed(0.25, "stabilizacja przy wsparciu asystenta", "stabilising with an assistant"),
        "action.F.S": assumed(0.05, "powrót dziecka do domu", "child returns home"),
        "action.C.S": assumed(0.05, "powrót dziecka do domu", "child returns home"),
        "action.S.R": assumed(0.05, "ponowny kryzys", "relapse into crisis"),
    },
    costs={
        "cost.R.gmina": UnitCost(
            4800, 2025,
            T("Świadczenia pomocy społecznej rodziny zagrożonej (zasiłki celowe i okresowe), przyjęte "
              "400 zł miesięcznie — założenie.",
              "Social-assistance benefits of a family at risk (targeted and periodic benefits), taken as "
              "400 zł a month — an assumption."),
            assumption=True),
        "cost.F.powiat": _split(_FOSTER_MONTH * 12, 2024, _FOSTER_PL, _FOSTER_EN, 1 - _GMINA_SHARE),
        "cost.F.gmina": _split(_FOSTER_MONTH * 12, 2024, _FOSTER_PL, _FOSTER_EN, _GMINA_SHARE),
        "cost.C.powiat": _split(_INSTITUTION_MONTH * 12, 2026, _INST_PL, _INST_EN, 1 - _GMINA_SHARE),
        "cost.C.gmina": _split(_INSTITUTION_MONTH * 12, 2026, _INST_PL, _INST_EN, _GMINA_SHARE),
    },
    programme_costs={
        "programme.cost.R.gmina": UnitCost(
            8400, 2025,
            T("Asystent rodziny: założony koszt zatrudnienia ok. 8 400 zł miesięcznie (wynagrodzenie z "
              "pochodnymi) × 12 / 12 rodzin (średnie obciążenie wg MRPiPS) — założenie; rządowy program "
              "„Asystent rodziny” (Fundusz Pracy) może zwrócić do 30 % kosztów zatrudnienia.",
              "Family assistant: assumed employment cost about 8 400 zł a month (pay with contributions) "
              "× 12 / 12 families (average caseload per the ministry) — an assumption; the government "
              "'Family assistant' programme (Labour Fund) may refund up to 30 % of employment costs."),
            assumption=True),
    },
    programme_years=2,
    main_effect="action.R.C",
    aliases={"people": "start.R", "families": "start.R", "effect": "action.R.C",
             "placement": "action.R.C", "programme_cost": "programme.cost.R.gmina",
             "years": "programme.years"},
)

_CARE_HOUR = 51.94  # Kowary, from 1 January 2026
SENIORS = Model(
    id="seniors",
    name=T("Senior zagrożony umieszczeniem w DPS: usługi opiekuńcze w domu",
           "Senior at risk of a nursing home: home care"),
    description=T("Trzy lata intensywnych usług opiekuńczych w domu zamiast domu pomocy społecznej.",
                  "Three years of intensive home care instead of a nursing home (DPS)."),
    unit=T("osoba", "person"),
    programme=T("dodatkowe 20 godzin usług opiekuńczych miesięcznie",
                "20 extra hours of home care a month"),
    states=(State("H", T("w domu, wymaga pomocy", "at home, needs help")),
            State("N", T("mieszkaniec DPS", "nursing-home (DPS) resident")),
            State("D", T("zmarły", "deceased"))),
    start={"start.H": 30},
    transitions={
        "inaction.H.N": assumed(0.12, "przyjęcie do DPS", "admission to a DPS"),
        "inaction.H.D": assumed(0.10, "śmiertelność", "mortality"),
        "inaction.N.D": assumed(0.15, "śmiertelność w DPS", "mortality in a DPS"),
        "action.H.N": assumed(0.06, "przyjęcie do DPS przy usługach w domu", "admission with home care"),
        "action.H.D": assumed(0.10, "śmiertelność", "mortality"),
        "action.N.D": assumed(0.15, "śmiertelność w DPS", "mortality in a DPS"),
    },
    costs={
        "cost.H.gmina": UnitCost(
            round(8 * _CARE_HOUR * 12, 2), 2026,
            T("Podstawowe usługi opiekuńcze: założone 8 godzin miesięcznie × 51,94 zł za godzinę (koszt "
              "godziny od 1 stycznia 2026 r., uchwała nr XXV/114/25 Rady Miejskiej w Kowarach) × 12. "
              "Stawka godzinowa różni się między gminami.",
              "Basic home care: assumed 8 hours a month × 51.94 zł an hour (hourly cost from 1 January "
              "2026, resolution XXV/114/25 of the Kowary town council) × 12. The hourly price varies "
              "between gminas."),
            assumption=True),
        "cost.N.gmina": UnitCost(
            (7000 - 2450) * 12, 2025,
            T("DPS: średni koszt pobytu ok. 7 000 zł miesięcznie (MRPiPS, stan na 31 marca 2025 r., "
              "sejmowa Komisja Polityki Społecznej i Rodziny) minus opłata mieszkańca 70 % dochodu (ustawa "
              "o pomocy społecznej, art. 61), przyjęta 2 450 zł (70 % emerytury 3 500 zł — założenie); "
              "resztę płaci gmina (rodzina pominięta).",
              "DPS: average cost of a stay about 7 000 zł a month (Ministry of Family, Labour and Social "
              "Policy, as of 31 March 2025, to the Sejm social policy committee) less the resident's "
              "share, 70 % of income (Act on social assistance, art. 61), taken as 2 450 zł (70 % of a "
              "3 500 zł pension — an assumption); the gmina pays the rest (family payments ignored)."),
            assumption=True),
    },
    programme_costs={
        "programme.cost.H.gmina": UnitCost(
            round(20 * _CARE_HOUR * 12, 2), 2026,
            T("20 dodatkowych godzin miesięcznie × 51,94 zł (Kowary, 2026) × 12; odpłatność seniora "
              "pominięta.",
              "20 extra hours a month × 51.94 zł (Kowary, 2026) × 12; the senior's co-payment ignored."),
            assumption=True),
    },
    programme_years=3,
    main_effect="action.H.N",
    aliases={"people": "start.H", "effect": "action.H.N", "programme_cost": "programme.cost.H.gmina",
             "years": "programme.years"},
)

PRISON = Model(
    id="prison",
    name=T("Osoby opuszczające zakłady karne: wsparcie po zwolnieniu",
           "People leaving prison: support after release"),
    description=T("Rok wsparcia po zwolnieniu (mieszkanie, praca, terapia), by zapobiec powrotowi do więzienia.",
                  "One year of support after release (housing, work, therapy) to prevent a return to prison."),
    unit=T("osoba", "person"),
    programme=T("pomoc postpenitencjarna i reintegracja", "post-release aid and reintegration"),
    states=(State("X", T("po zwolnieniu, bez pracy", "released, not working")),
            State("E", T("pracujący", "employed")),
            State("P", T("ponownie w więzieniu", "back in prison"))),
    start={"start.X": 20},
    transitions={
        "inaction.X.E": assumed(0.15, "podjęcie pracy", "finding work"),
        "inaction.X.P": assumed(0.15, "powrót do więzienia", "return to prison"),
        "inaction.E.X": assumed(0.15, "utrata pracy", "job loss"),
        "inaction.E.P": assumed(0.05, "powrót do więzienia", "return to prison"),
        "inaction.P.X": assumed(0.40, "zwolnienie (średnio ok. 2,5 roku pobytu)", "release (about 2.5 years inside)"),
        "action.X.E": assumed(0.30, "podjęcie pracy przy wsparciu", "finding work with support"),
        "action.X.P": assumed(0.10, "powrót do więzienia przy wsparciu", "return to prison with support"),
        "action.E.X": assumed(0.15, "utrata pracy", "job loss"),
        "action.E.P": assumed(0.05, "powrót do więzienia", "return to prison"),
        "action.P.X": assumed(0.40, "zwolnienie", "release"),
    },
    costs={
        "cost.X.gmina": SOCIAL_BENEFITS,
        "cost.E.state": MIN_WAGE_REVENUE,
        "cost.P.state": UnitCost(
            77599.92, 2024,
            T("Przeciętny miesięczny koszt utrzymania osadzonego 6 466,66 zł w 2024 r. (Służba Więzienna, "
              "informacja roczna za 2024 r.) × 12.",
              "Average monthly cost of a prisoner 6 466.66 zł in 2024 (Prison Service, annual information "
              "for 2024) × 12.")),
    },
    programme_costs={
        "programme.cost.X.state": UnitCost(
            10000, 2025,
            T("Założony roczny koszt wsparcia jednej osoby (pomoc postpenitencjarna z Funduszu "
              "Sprawiedliwości, organizacje pozarządowe).",
              "Assumed yearly cost of supporting one person (post-release aid from the Justice Fund, "
              "NGOs)."),
            assumption=True),
    },
    programme_years=1,
    main_effect="action.X.P",
    aliases={"people": "start.X", "effect": "action.X.P", "employment": "action.X.E",
             "programme_cost": "programme.cost.X.state", "years": "programme.years"},
)

HOMELESSNESS = Model(
    id="homelessness",
    name=T("Bezdomność: najpierw mieszkanie", "Homelessness: Housing First"),
    description=T("Dwa lata programu „Najpierw mieszkanie” zamiast pobytu w schronisku.",
                  "Two years of Housing First instead of a shelter."),
    unit=T("osoba", "person"),
    programme=T("mieszkanie ze wsparciem (Housing First)", "housing with support (Housing First)"),
    states=(State("H", T("w kryzysie bezdomności (schronisko)", "homeless (shelter)")),
            State("R", T("w mieszkaniu", "housed"))),
    start={"start.H": 10},
    transitions={
        "inaction.H.R": assumed(0.10, "wyjście z bezdomności", "leaving homelessness"),
        "inaction.R.H": assumed(0.20, "powrót do bezdomności", "return to homelessness"),
        "action.H.R": Effect(0.60, "C", T(
            "zagraniczne badania randomizowane (np. kanadyjskie At Home/Chez Soi) pokazały duży wzrost "
            "stabilnego zamieszkania; polskie pilotaże bez grupy porównawczej — wartość to założenie",
            "foreign randomised trials (e.g. Canada's At Home/Chez Soi) found large gains in stable "
            "housing; Polish pilots had no comparison group — the value is an assumption")),
        "action.R.H": Effect(0.10, "C", T("jak wyżej", "as above")),
    },
    costs={
        "cost.H.gmina": UnitCost(
            21900, 2025,
            T("Miejsce w schronisku prowadzonym na zlecenie gminy: założone 60 zł za osobodzień × 365 "
              "(schronienie to obowiązkowe zadanie gminy, ustawa o pomocy społecznej, art. 48a); ceny "
              "umów różnią się między gminami.",
              "A shelter place run for the gmina: assumed 60 zł per person-day × 365 (shelter is a "
              "mandatory gmina task, Act on social assistance, art. 48a); contract prices vary."),
            assumption=True),
        "cost.H.nfz": UnitCost(
            6000, 2025,
            T("Leczenie w nagłych przypadkach i hospitalizacje osób bezdomnych — założenie.",
              "Emergency care and hospital stays of homeless people — an assumption."),
            assumption=True),
        "cost.R.gmina": UnitCost(
            4800, 2025,
            T("Świadczenia osoby mieszkającej samodzielnie (dodatek mieszkaniowy, zasiłki) — założenie.",
              "Benefits of a person living independently (housing allowance, benefits) — an assumption."),
            assumption=True),
        "cost.R.nfz": UnitCost(
            2000, 2025,
            T("Leczenie osoby w mieszkaniu — założenie.", "Health care of a housed person — an assumption."),
            assumption=True),
    },
    programme_costs={
        "programme.cost.R.gmina": UnitCost(
            18000, 2025,
            T("Wsparcie i dopłata do najmu dla osoby w mieszkaniu — założenie.",
              "Support worker and rent top-up for a housed person — an assumption."),
            assumption=True),
        "programme.cost.H.gmina": UnitCost(
            3000, 2025,
            T("Streetworking i przygotowanie do zamieszkania — założenie.",
              "Outreach and preparing a move — an assumption."),
            assumption=True),
    },
    programme_years=2,
    main_effect="action.H.R",
    aliases={"people": "start.H", "effect": "action.H.R", "years": "programme.years"},
)

ALCOHOL = Model(
    id="alcohol",
    name=T("Uzależnienie od alkoholu: terapia i wsparcie", "Alcohol addiction: therapy and support"),
    description=T("Rok motywowania do leczenia i wsparcia w abstynencji w gminnym programie.",
                  "One year of motivation to treatment and support in abstinence in a gmina programme."),
    unit=T("osoba", "person"),
    programme=T("gminny program profilaktyki i rozwiązywania problemów alkoholowych (z opłat za zezwolenia "
                "na sprzedaż alkoholu, ustawa o wychowaniu w trzeźwości)",
                "gmina alcohol programme (funded by alcohol licence fees under the Act on upbringing in "
                "sobriety)"),
    states=(State("A", T("uzależniony, pije", "dependent, drinking")),
            State("T", T("w abstynencji", "in recovery (abstinent)"))),
    start={"start.A": 25},
    transitions={
        "inaction.A.T": assumed(0.05, "samodzielne podjęcie abstynencji", "recovery unaided"),
        "inaction.T.A": assumed(0.30, "nawrót", "relapse"),
        "action.A.T": assumed(0.20, "abstynencja po terapii", "recovery after therapy"),
        "action.T.A": assumed(0.20, "nawrót przy wsparciu", "relapse with support"),
    },
    costs={
        "cost.A.gmina": UnitCost(
            3000, 2025, T("Zasiłki i interwencje pomocy społecznej — założenie.",
                          "Benefits and social-work interventions — an assumption."), assumption=True),
        "cost.A.nfz": UnitCost(
            5000, 2025, T("Izby przyjęć, detoksykacje, hospitalizacje — założenie.",
                          "Emergency rooms, detoxification, hospital stays — an assumption."),
            assumption=True),
        "cost.A.state": UnitCost(
            1500, 2025, T("Interwencje policji i wymiar sprawiedliwości — założenie.",
                          "Police interventions and the justice system — an assumption."), assumption=True),
        "cost.T.nfz": UnitCost(
            1500, 2025, T("Leczenie ambulatoryjne w abstynencji — założenie.",
                          "Outpatient treatment in recovery — an assumption."), assumption=True),
    },
    programme_costs={
        "programme.cost.A.gmina": UnitCost(
            4000, 2025, T("Założony roczny koszt motywowania i terapii wspierającej na osobę.",
                          "Assumed yearly cost of motivation and supporting therapy per person."),
            assumption=True),
    },
    programme_years=1,
    main_effect="action.A.T",
    aliases={"people": "start.A", "effect": "action.A.T", "programme_cost": "programme.cost.A.gmina",
             "years": "programme.years"},
)

DISABILITY = Model(
    id="disability",
    name=T("Niepełnosprawność: zatrudnienie wspomagane", "Disability: supported employment"),
    description=T("Dwa lata trenera pracy dla osób z niepełnosprawnością biernych zawodowo.",
                  "Two years of a job coach for inactive people with a disability."),
    unit=T("osoba z umiarkowanym stopniem niepełnosprawności", "person with a moderate disability"),
    programme=T("trener pracy (zatrudnienie wspomagane)", "job coach (supported employment)"),
    states=(State("D", T("bierny zawodowo", "inactive")),
            State("W", T("pracujący", "working"))),
    start={"start.D": 15},
    transitions={
        "inaction.D.W": assumed(0.03, "podjęcie pracy", "finding work"),
        "inaction.W.D": assumed(0.20, "utrata pracy", "job loss"),
        "action.D.W": assumed(0.20, "podjęcie pracy z trenerem", "finding work with a coach"),
        "action.W.D": assumed(0.10, "utrata pracy przy wsparciu trenera", "job loss with a coach"),
    },
    costs={
        "cost.D.gmina": UnitCost(
            1229 * 12, 2025,
            T("Zasiłek stały do 1 229 zł miesięcznie (2025, ustawa o pomocy społecznej) × 12 — górne "
              "oszacowanie: przeciętna wypłata jest niższa.",
              "Permanent benefit (zasiłek stały) of up to 1 229 zł a month (2025, Act on social "
              "assistance) × 12 — an upper bound: the average paid is lower."),
            assumption=True),
        "cost.W.state": MIN_WAGE_REVENUE,
        "cost.W.pfron": UnitCost(
            1350 * 12, 2023,
            T("Dofinansowanie PFRON do wynagrodzenia pracownika z umiarkowanym stopniem niepełnosprawności "
              "1 350 zł miesięcznie (ustawa o rehabilitacji zawodowej i społecznej, art. 26a, kwoty od "
              "stycznia 2023 r.) × 12.",
              "PFRON wage subsidy for an employee with a moderate disability, 1 350 zł a month (Act on "
              "vocational and social rehabilitation, art. 26a, amounts from January 2023) × 12.")),
    },
    programme_costs={
        "programme.cost.D.pfron": UnitCost(
            9000, 2025, T("Założony roczny koszt trenera pracy na osobę.",
                          "Assumed yearly cost of a job coach per person."), assumption=True),
    },
    programme_years=2,
    main_effect="action.D.W",
    aliases={"people": "start.D", "effect": "action.D.W", "programme_cost": "programme.cost.D.pfron",
             "years": "programme.years"},
)

MODELS: dict[str, Model] = {
    m.id: m for m in (UNEMPLOYMENT, FAMILY, SENIORS, PRISON, HOMELESSNESS, ALCOHOL, DISABILITY)
}
# Polish ids a user may type in a Polish chat.
MODEL_ALIASES = {
    "bezrobocie": "unemployment",
    "rodzina": "family",
    "seniorzy": "seniors",
    "senior": "seniors",
    "wiezienie": "prison",
    "więzienie": "prison",
    "bezdomnosc": "homelessness",
    "bezdomność": "homelessness",
    "alkohol": "alcohol",
    "niepelnosprawnosc": "disability",
    "niepełnosprawność": "disability",
}


def get_model(model_id: str) -> Model:
    key = model_id.strip().lower()
    key = MODEL_ALIASES.get(key, key)
    if key not in MODELS:
        raise CalcError("calc.error.unknown_model", model=model_id, models=", ".join(MODELS))
    return MODELS[key]
