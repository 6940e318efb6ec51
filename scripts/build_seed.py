"""Build app/data/seed.json, the bundled seed in the API's v2 write shape, from the reference set.

    python scripts/build_seed.py [REFERENCE] [--output PATH]

REFERENCE defaults to ../shared/data/exchanges-reference-v2.json beside the repository. The script
converts the reference (ids to slugs, claims to source figures, running totals to official totals),
rewrites the few notes that read like a researcher's notebook, checks every rule the tracker holds
a stage to, and fails loudly, writing nothing, when a rule is broken or a reference URL would be
lost. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Json = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "data" / "exchanges-reference-v2.json"
DEFAULT_OUTPUT = REPO_ROOT / "app" / "data" / "seed.json"
# The slugs of the first seed: embed codes in articles use them, so they never change.
KEPT_SLUGS = [
    "2022-06-28-small",
    "2022-06-29-azovstal-144",
    "2022-09-21-azov-medvedchuk",
    "2022-12-31-140-82",
    "2023-02-04-116",
    "2023-04-10-100",
    "2023-04-16-easter-130",
    "2023-04-26-44-40",
    "2024-01-03-uae-230-248",
    "2024-01-31-uae-207-195",
    "2024-02-08-uae-100",
    "2024-05-31-uae-75",
    "2024-08-24-115",
    "2024-09-14-uae-103",
    "2024-12-30-uae-189-150",
    "2025-01-15-uae-25",
    "2025-02-05-uae-150",
    "2025-03-19-175-plus-wounded",
    "2025-04-19-easter-277",
    "2025-05-06-uae-205",
    "istanbul-1000-for-1000",
    "2025-istanbul-2-bodies",
    "2025-2026-body-repatriations",
    "2025-istanbul-3-1200",
    "2025-08-24-uae-146",
    "2025-10-02-205",
]

ABOUT = (
    "Prisoner exchanges between warring parties, recorded stage by stage: the Russia-Ukraine war "
    "from March 2022 to March 2026, including the repatriation of fallen soldiers' remains, and "
    "exchanges in Yemen (2020 and 2023) and between Armenia and Azerbaijan (2023). Every figure "
    "comes from public news reports and official statements in English, Ukrainian and Russian and "
    "carries its source; where the people who announce figures disagree, each source keeps the "
    "figures its announcer gave, and the release holds the figure both sides confirmed, or else "
    "the receiving side's own count. A null value means the figure was not disclosed, never zero. "
    "The record is not complete: several small exchanges of 2022 and the per-stage figures Ukraine "
    "withheld in 2025 are missing, so sums here fall short of the official running totals."
)

# Exchanges carried over keep the slug they have today: embed codes in articles use it.
SLUG_OVERRIDES = {"2025-istanbul-1000x1000": "istanbul-1000-for-1000"}

QUALIFIERS = {None: "exact", "exact": "exact", "about": "about", "at_least": "at_least"}
QUALIFIERS["more_than"] = "at_least"

# ---- reader-facing text --------------------------------------------------------------------
# Each rewrite keeps the facts of the reference text and drops research remarks; stage notes also
# take in the releases' own notes, which the v2 shape has no field for.

SUMMARIES = {
    "2022-04-01-86": (
        "Ukraine brought home 86 servicemen, 15 of them women, in its second exchange. Officials "
        "linked it to the Istanbul negotiations; Russia's figure is not known."
    ),
}

TERMS_NOTES = {
    ("2020-10-yemen-1081-deal", None): (
        "Agreed in Switzerland in late September 2020; the exact day is not known. 681 Houthis "
        "were to be freed for 400 on the other side: 381 government prisoners, 15 Saudis and "
        "4 Sudanese."
    ),
    ("2026-03-geneva-500-for-500", "2026-03-05"): (
        "Announced by Medinsky and Ukraine's Coordination Headquarters on the first day; the date "
        "of the Geneva agreement itself is not known."
    ),
}

RUSSIA_SIDE_UNKNOWN = "What Russia received is not known."
ISTANBUL_2_WITHHELD = (
    "Neither side gave a number: Ukraine withheld its figures 'for security' until the end of the "
    "process, and Russia gave none."
)

STAGE_NOTES: dict[tuple[str, str], str] = {
    ("2020-10-yemen-1081-deal", "2020-10-15"): (
        "The government negotiator's figures (710 in all) are recorded; another outlet reported "
        "480 for 250, and the ICRC's two-day total of 1,056 minus day two's 352 implies 704. The "
        "470 Houthis were released by the government side, some of them flown out of Abha in Saudi "
        "Arabia; the 19 coalition soldiers were flown to Riyadh."
    ),
    ("2022-03-01-sumy-5-for-1", "2022-03-01"): (
        "Only the Ukrainian side announced it. Russia got back one military police officer. Not "
        "part of Ukraine's official exchange numbering, which starts on 24 March 2022."
    ),
    ("2022-03-16-melitopol-mayor", "2022-03-16"): (
        "Ukraine got back Ivan Fedorov, the mayor of Melitopol, for nine Russian conscripts born "
        "in 2002-2003, according to Zelensky's office. Both sides confirmed nine; one Ukrainian "
        "outlet later wrote ten. Not in Ukraine's official numbering."
    ),
    ("2022-04-01-86", "2022-04-01"): "The number Russia received was not disclosed.",
    ("2022-04-21-19", "2022-04-21"): (
        "The date comes from a Hromadske Radio recap. Russia's side was not disclosed."
    ),
    ("2022-04-14-posad-pokrovske", "2022-04-14"): (
        "Reported in a single Ukrainian news item; it is not clear whether Ukraine counts it in "
        "its numbering."
    ),
    ("2022-06-10-mykolaiv-5-for-4", "2022-06-10"): (
        "Mykolaiv's governor called it Ukraine's 11th exchange and described the four handed over "
        "as Russian servicemen. Ukraine's 10th exchange, between 6 May and 10 June 2022, is not "
        "recorded here."
    ),
    ("2022-06-28-17-for-15", "2022-06-28"): (
        "Figures from Ukraine's military intelligence, which said at least five of those freed "
        "were wounded."
    ),
    ("2022-06-29-azovstal-144", "2022-06-29"): (
        "The breakdown by service comes from Ukraine's military intelligence. Those handed to "
        "Russia were Russian and Donetsk separatist fighters, according to Denis Pushilin."
    ),
    ("2022-09-21-azov-medvedchuk", "2022-09-21"): (
        "Russia's total is 55 servicemen of Russia and the Donetsk and Luhansk separatist forces "
        "plus Medvedchuk (56 people), as Reuters put it; some reports count Medvedchuk inside the "
        "55. Ukraine's 215 includes 10 foreign nationals, who were flown to Saudi Arabia; five "
        "commanders were to stay in Türkiye under guarantees. President Erdogan spoke of about 200 "
        "prisoners exchanged under Turkish mediation."
    ),
    ("2022-10-11-32", "2022-10-11"): (
        "The body of Israeli volunteer Dmytro Fialka was also handed to Ukraine. Russia's side was "
        "not disclosed."
    ),
    ("2022-10-17-108-women", "2022-10-17"): (
        "Everyone agrees on 108 and 110, but not on how many of the 110 were civilian sailors: the "
        "Russian Defence Ministry said 72, Pushilin said 80 sailors and 30 servicemen. The "
        "ministry's figure is recorded."
    ),
    ("2022-10-26-10", "2022-10-26"): (
        "Ukraine also received the body of US volunteer Joshua Alan Jones. Russia's side was not "
        "disclosed."
    ),
    ("2022-11-03-107", "2022-11-03"): (
        "Russia's 107 comes from Ukrainian reports of a '107 for 107' formula, not from a Russian "
        "statement."
    ),
    ("2022-11-24-50", "2022-11-24"): RUSSIA_SIDE_UNKNOWN,
    ("2022-11-26-12", "2022-11-26"): RUSSIA_SIDE_UNKNOWN,
    ("2022-12-31-140-for-82", "2022-12-31"): (
        "An asymmetric swap. Yermak's breakdown by unit adds up to 140, which suggests all were "
        "servicemen, but he did not say so, so Ukraine's 140 are not split into military and "
        "civilians."
    ),
    ("2023-02-04-116-for-63", "2023-02-04"): (
        "An asymmetric swap. Yermak listed 2 officers and 114 privates and sergeants from the "
        "armed forces, the police and the emergency service, so Ukraine's 116 are not split into "
        "military and civilians. Ukraine also received the bodies of foreign volunteers; their "
        "number was not given."
    ),
    ("2023-04-yemen-887-deal", "2023-04-14"): (
        "The ICRC put the day's total at 318. The figures by direction, about 250 flown from Aden "
        "to Sanaa and about 70 from Sanaa to Aden on two flights, come from one report and add up "
        "to 320. Those flown to Aden included former defence minister Mahmoud al-Subaihi and "
        "Nasser Mansour Hadi."
    ),
    ("2023-04-yemen-887-deal", "2023-04-15"): (
        "The flight figures match the ICRC and AFP day total of 357: two Abha-Sanaa flights "
        "carried 120 and 117 Houthis, three flights took 100 from Mokha to Sanaa, and one took 20 "
        "people from Sanaa to Riyadh, the coalition soldiers and a relative of Tareq Saleh. A "
        "Sputnik report citing a Sanaa airport source gave different numbers: 183 Houthis freed by "
        "Saudi Arabia and 19 coalition troops returned."
    ),
    ("2023-04-yemen-887-deal", "2023-04-16"): (
        "Per-direction totals for the last day were not published. The ICRC's overall 869 minus "
        "the 675 of the first two days gives 194, matching The National; the government negotiator "
        "said 196. The first Marib-Sanaa flight carried 48 people, and the first Sanaa-Marib "
        "flight 42, among them four journalists the Houthis had sentenced to death."
    ),
    ("2023-04-yemen-887-deal", "2023-04-17"): (
        "Not part of the 887 deal: a unilateral release by the coalition. The ICRC flew 96 from "
        "Abha to Sanaa and 8 from Abha to Aden."
    ),
    ("2023-04-16-easter-130", "2023-04-16"): (
        "Dated to the day of the announcement: the 130 came home in several handovers over the "
        "preceding days, and per-day figures were not published."
    ),
    ("2023-05-25-106", "2023-05-25"): (
        "Russia's side was not disclosed. The three bodies returned were those of two foreigners "
        "and a Ukrainian woman, according to Ukraine's Coordination Headquarters."
    ),
    ("2023-08-07-22", "2023-08-07"): RUSSIA_SIDE_UNKNOWN,
    ("2023-12-13-armenia-azerbaijan-32-for-2", "2023-12-13"): (
        "The two Azerbaijani soldiers, Agshin Babirov and Huseyn Akhundov, had been captured in "
        "April 2023 after straying across the border in bad weather."
    ),
    ("2024-01-03-230-for-248", "2024-01-03"): (
        "Asymmetric in Russia's favour. Ukraine's total includes six civilians. Russia's ombudsman "
        "Tatyana Moskalkova said 75 of the 248 Russians came back without an exchange."
    ),
    ("2024-06-28-ten-civilians", "2024-06-28"): (
        "Not one of Ukraine's numbered exchanges, but Ukraine's official running total appears to "
        "include these ten."
    ),
    ("2024-08-24-115-for-115", "2024-08-24"): (
        "One later Turkish report said Türkiye coordinated this swap on its soil; the UAE, Russia "
        "and Ukraine all credited the UAE. The Russians returned were mostly conscripts captured "
        "in Kursk region, according to Russian media quoted by Ukrainian outlets."
    ),
    ("2025-03-19-175-for-175", "2025-03-19"): (
        "The Kremlin promised 23 badly wounded Ukrainians; 22 were handed over, without "
        "explanation. Russia called them a goodwill gesture, and Ukraine's Coordination "
        "Headquarters lists them as returned outside the exchange. Zelensky said the group "
        "included people Russia had prosecuted on fabricated charges."
    ),
    ("2025-04-19-easter-246-plus-wounded", "2025-04-19"): (
        "Russia received 261 in all (246 + 15 wounded). Of Ukraine's 277, 268 were privates and "
        "sergeants and 9 officers. Ukraine's Coordination Headquarters lists its 31 wounded as "
        "freed outside the exchange; the Russian Defence Ministry reported the separate handover "
        "of 31 wounded Ukrainians for 15 wounded Russians."
    ),
    ("2025-05-istanbul-1000-for-1000", "2025-05-23"): (
        "Both sides gave 270 servicemen and 120 civilians each way. Russia said its civilians "
        "included residents of Kursk region. Ukraine's ombudsman later said the civilian part was "
        "an unconditional return rather than an exchange. Ukraine's 'I want to go to my own' "
        "project said 70 people convicted of collaboration or treason left for Russia alongside "
        "the civilian returns; it is not stated whether they are among the 120."
    ),
    ("2025-05-istanbul-1000-for-1000", "2025-05-24"): (
        "All were men, privates and sergeants, according to Ukraine's Coordination Headquarters; "
        "697 over two days."
    ),
    ("2025-05-istanbul-1000-for-1000", "2025-05-25"): (
        "Final day. Russia's deputy defence minister put Russia's total for the three days at 880 "
        "servicemen and 120 civilians; Ukraine's Coordination Headquarters counted 1,000 returned "
        "to Ukraine (390 + 307 + 303) as its 65th exchange."
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-09"): (
        "First group of prisoners under 25. Russia said it handed over 'approximately the same "
        "number' as it received. Ukraine's Coordination Headquarters called the process the "
        f"continuing 66th exchange. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-10"): (
        f"First group of severely wounded and seriously ill. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-12"): (
        "Another group of severely wounded and sick; Ukraine accused Russia of spreading "
        f"disinformation about delays. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-14"): (
        f"Fourth stage of the week; officers were among those freed. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-19"): (
        f"Severely ill and wounded. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-20"): (
        f"Wounded and seriously ill. {ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-06-26"): f"Under-25s and wounded. {ISTANBUL_2_WITHHELD}",
    ("2025-06-istanbul-2-pow-track", "2025-07-04"): (
        "Eighth stage; a group of civilians, including medics, came back with the soldiers. "
        f"{ISTANBUL_2_WITHHELD}"
    ),
    ("2025-06-istanbul-2-pow-track", "2025-07-23"): (
        "Ninth stage. The only stage with a stated number, about 250 each way, given by Russia's "
        "chief negotiator Medinsky and not confirmed by Ukraine. Zelensky and Budanov said more "
        "than 1,000 Ukrainians came home over all the stages; Medinsky spoke of over 2,400 in all, "
        "about 1,200 on each side. In January 2026 Ukraine's Coordination Headquarters counted ten "
        "stages, not nine; the tenth may be the military part of the 24 August swap, which it said "
        "came under the Istanbul agreements."
    ),
    (
        "2025-06-istanbul-2-bodies",
        "2025-06-15",
    ): "Umerov said 4,812 bodies were received that week.",
    ("2025-06-istanbul-2-bodies", "2025-06-16"): (
        "Ukraine counted 1,245 (6,057 in all); Russia said 1,248 (6,060 in all), and that it "
        "received 51 Russian bodies that day, 78 in all. Ukraine's count is recorded. Ukraine's "
        "interior minister said Russian remains were mixed in."
    ),
    ("2025-07-recurring-body-repatriations", "2025-08-19"): (
        "Included five Ukrainian prisoners of war who died in captivity while on the exchange "
        f"lists. {RUSSIA_SIDE_UNKNOWN}"
    ),
    ("2025-08-14-84-for-84", "2025-08-14"): (
        "Both sides say 84, but disagree on who they were. Ukraine's own split (33 military, 51 "
        "civilians) is recorded; Russia called all 84 prisoners of the Ukrainian armed forces. "
        "Some of the Ukrainians had been held since 2014."
    ),
    ("2025-08-24-146-plus-civilians", "2025-08-24"): (
        "Ukraine gave no total: the 146 servicemen is Russia's figure and the eight civilians "
        "Ukraine's, so Ukraine's 154 is inferred. Russia also got back eight residents of Kursk "
        "region."
    ),
}

# Words that mark a researcher's notebook rather than a newsroom sentence.
NOTEBOOK_PHRASES = (
    "not found",
    "sources found",
    "sources used",
    "low confidence",
    "confidence:",
    "see report",
    "see claims",
    "left blank",
    "kept in categories",
    "retrieved",
    "excerpt",
    "source:",
    "single secondary",
    "single ukrainian mention",
    "Ukraine's HQ",
)

# ---- announcers ----------------------------------------------------------------------------

# Who each reference claim's `by` speaks for: a party slug, "independent", or None (press,
# unknown, or several parties at once). An announcer missing here fails the build.
CLAIM_SPEAKS_FOR: dict[str, str | None] = {
    "Yemeni government negotiator Majed Fadhail": "yemen-government",
    "Yemeni government negotiator Majed Fadael": "yemen-government",
    "A24 (unnamed sources)": None,
    "ICRC": "independent",
    "ICRC / AFP": "independent",
    "The National (ICRC briefing)": "independent",
    "Sputnik (Sanaa airport source)": None,
    "Office of the President of Ukraine (via Interfax-Ukraine)": "ukraine",
    "LB.ua (in passing)": None,
    "Andriy Yermak (via Ukrainian News)": "ukraine",
    "Andriy Yermak": "ukraine",
    "RFE/RL": None,
    "Russian Defence Ministry": "russia",
    "President Erdogan (via Hurriyet)": "independent",
    "Denis Pushilin (Russian-installed Donetsk leader)": "russia",
    "President Zelensky / Coordination Headquarters": "ukraine",
    "Zelensky / Coordination Headquarters": "ukraine",
    "Russian Defence Ministry (via Bloomberg) and Zelensky": None,
    "Kherson-news.ru (Russian regional outlet)": None,
    "UAE Ministry of Foreign Affairs, Russian MoD, Zelensky": None,
    "TRT World (Anadolu)": None,
    "Kremlin (18 March announcement)": "russia",
    "Russian MoD / Ukraine, on the day": None,
    "Russian deputy defence minister Fomin": "russia",
    "Coordination Headquarters": "ukraine",
    "Coordination Headquarters (January 2026)": "ukraine",
    "Volodymyr Zelensky": "ukraine",
    "Kyrylo Budanov (HUR)": "ukraine",
    "Vladimir Medinsky": "russia",
    "Russian Defence Ministry / Medinsky": "russia",
}

# A source without a claim names its announcer only when its claim text opens with one of these
# ("Yermak: 50 freed ...") and quotes nobody else after it.
HQ = ("Ukraine's Coordination Headquarters", "ukraine")
ZELENSKY = ("Volodymyr Zelensky", "ukraine")
YERMAK = ("Andriy Yermak", "ukraine")
YUSOV = ("Andriy Yusov (Ukraine's military intelligence)", "ukraine")
BUDANOV = ("Kyrylo Budanov", "ukraine")
RUSSIAN_MOD = ("Russian Defence Ministry", "russia")
MEDINSKY = ("Vladimir Medinsky", "russia")
UAE = ("United Arab Emirates", "independent")
CLAIM_PREFIXES: dict[str, tuple[str, str]] = {
    "HQ": HQ,
    "HQ three-year results": HQ,
    "HQ on its fourth anniversary": HQ,
    "HQ figures from October": HQ,
    "HQ secretary Usov": HQ,
    "HQ/Yermak": ("Andriy Yermak and Ukraine's Coordination Headquarters", "ukraine"),
    "Yermak/HQ": ("Andriy Yermak and Ukraine's Coordination Headquarters", "ukraine"),
    "HUR": ("Ukraine's military intelligence (HUR)", "ukraine"),
    "Zelensky": ZELENSKY,
    "Zelensky's breakdown": ZELENSKY,
    "Yermak": YERMAK,
    "Yermak's breakdown": YERMAK,
    "Lubinets": ("Dmytro Lubinets, Ukraine's human rights commissioner", "ukraine"),
    "Vereshchuk": ("Iryna Vereshchuk, Ukraine's deputy prime minister", "ukraine"),
    "Yusov": YUSOV,
    "HUR's Yusov": YUSOV,
    "Budanov": BUDANOV,
    "Budanov (now head of the President's Office)": BUDANOV,
    "Budanov at the HQ's third-anniversary conference": BUDANOV,
    "Umerov": ("Rustem Umerov", "ukraine"),
    "Tymoshenko": ("Kyrylo Tymoshenko, deputy head of Ukraine's presidential office", "ukraine"),
    "Kim": ("Vitaliy Kim, governor of Mykolaiv region", "ukraine"),
    "Sumy governor Zhyvytskyi": ("Dmytro Zhyvytskyi, governor of Sumy region", "ukraine"),
    "Deputy defence minister Maliar": (
        "Hanna Maliar, Ukraine's deputy defence minister",
        "ukraine",
    ),
    "Presidential press aide via Interfax-Ukraine": ("Ukraine's presidential office", "ukraine"),
    "Russian MoD": RUSSIAN_MOD,
    "MoD": RUSSIAN_MOD,
    "Medinsky": MEDINSKY,
    "Russian negotiator": ("Russian negotiator", "russia"),
    "Deputy defence minister Fomin": (
        "Alexander Fomin, Russia's deputy defence minister",
        "russia",
    ),
    "Moskalkova": ("Tatyana Moskalkova, Russia's human rights commissioner", "russia"),
    "Pushilin": ("Denis Pushilin, Russian-installed Donetsk leader", "russia"),
    "Kremlin": ("Kremlin", "russia"),
    "UAE": UAE,
    "UAE MoFA": ("UAE Ministry of Foreign Affairs", "independent"),
    "ICRC": ("ICRC", "independent"),
    "Kalin": ("Ibrahim Kalin, spokesman for Türkiye's president", "independent"),
    "Deputy human rights minister Fadhail": (
        "Majed Fadhail, Yemen's deputy human rights minister",
        "yemen-government",
    ),
    "Government negotiator Fadael": (
        "Majed Fadael, Yemeni government negotiator",
        "yemen-government",
    ),
    "Al-Murtada": ("Abdulqader al-Murtada, Houthi prisoner-exchange official", "houthis"),
    "Pashinyan": ("Nikol Pashinyan, Armenia's prime minister", "armenia"),
}
# Names that, quoted after the opening announcer ("; Zelensky: ...", "Moscow said"), make a claim
# speak for more than one announcer: the announcer is then left unknown.
OTHER_SPEAKERS = (
    "HQ",
    "HUR",
    "Zelensky",
    "Yermak",
    "Lubinets",
    "Yusov",
    "Budanov",
    "Umerov",
    "Russian MoD",
    "MoD",
    "Medinsky",
    "Moskalkova",
    "Pushilin",
    "Kremlin",
    "Khinshtein",
    "Witkoff",
    "Fadhail",
    "Fadael",
    "ICRC",
    "UAE",
    "Moscow",
    "Kyiv",
    "Russia",
    "Ukraine",
)
OTHER_SPEAKER = re.compile(
    r"\b(" + "|".join(re.escape(name) for name in OTHER_SPEAKERS) + r")(?::|\s+(?:said|says)\b)"
)
# Publishers that are, or plainly relay, the announcer: (text in the publisher name, announcer or
# None for the publisher itself, speaks_for).
PUBLISHER_ANNOUNCERS: tuple[tuple[str, str | None, str | None], ...] = (
    ("(Russian MoD statement)", RUSSIAN_MOD[0], "russia"),
    ("(citing Russian MoD)", RUSSIAN_MOD[0], "russia"),
    ("(Coordination HQ statement)", HQ[0], "ukraine"),
    ("(HQ to Ukrainska Pravda)", HQ[0], "ukraine"),
    ("(HQ)", HQ[0], "ukraine"),
    ("(Zelensky address)", ZELENSKY[0], "ukraine"),
    ("(citing Medinsky)", MEDINSKY[0], "russia"),
    ("(ICRC statement)", "ICRC", "independent"),
    ("ReliefWeb (ICRC)", "ICRC", "independent"),
    ("ICRC audiovisual archive", "ICRC", "independent"),
    ("UAE Ministry of Foreign Affairs", None, "independent"),
    ("Azerbaijan State Commission on Prisoners of War", None, "azerbaijan"),
    ("Cherkasy Regional Administration", None, "ukraine"),
    ("Christoph Steinert (research dataset", None, None),
)

# Claims about one day in all directions whose own text gives the figure for each receiving party
# (the day-one Yemen 2020 claims); every other claim not about one receiving party, or about
# several stages at once, keeps its source and claim text but gives no figures.
SPLIT_CLAIMS: dict[tuple[str, str, str], list[tuple[str, int]]] = {
    ("2020-10-yemen-1081-deal", "2020-10-15", "Yemeni government negotiator Majed Fadhail"): [
        ("houthis", 470),
        ("yemen-government", 221),
        ("saudi-arabia", 19),
    ],
    ("2020-10-yemen-1081-deal", "2020-10-15", "A24 (unnamed sources)"): [
        ("houthis", 480),
        ("yemen-government", 250),
    ],
}
# Claims about one receiving party whose figure covers the whole operation, not the stage they are
# filed under: as stage figures they would read as that day's count.
WHOLE_OPERATION_CLAIMS = {
    ("2025-05-istanbul-1000-for-1000", "2025-05-25", "Russian deputy defence minister Fomin"),
    ("2025-05-istanbul-1000-for-1000", "2025-05-25", "Coordination Headquarters"),
}
ONE_PARTY = re.compile(r"received_by=([a-z-]+)")

# ---- official running totals ---------------------------------------------------------------

TOTAL_METRICS = {"people_returned": "people", "bodies_received": "remains"}
LEFT_OUT_TOTALS_BY_URL = {
    "https://slovoidilo.ua/2023/11/10/infografika/suspilstvo/skilky-ukrayincziv-povernulysya-"
    "rosijskoho-polonu-chas-povnomasshtabnoyi-vijny": (
        "the outlet's own count of public reports, not a figure published by Ukraine"
    ),
    "https://thelittletwentieth.com/2025/08/15/ukraine-secures-the-release-of-84-citizens-from-"
    "russian-captivity-in-a-landmark-prisoner-swap": (
        "an aggregator's figure that names no official source, out of line with Ukraine's own "
        "6,235 of October 2025"
    ),
}
# Reader-facing notes for totals whose reference note needs one, keyed by (as_of, publisher,
# figure); the other kept totals get notes built from their structured fields.
TOTAL_NOTES: dict[tuple[str, str, int], str | None] = {
    ("2022-12-01", "Radio Svoboda", 1319): (
        "Zelensky gave this figure on 1 December 2022; it may not include that day's exchange "
        "of 50."
    ),
    ("2023-03-02", "Ukraine Today (Ukrinform)", 1863): (
        "After 38 exchanges. The same statement gave 1,756 servicemen and 135 civilians, which add "
        "up to 1,891, not 1,863."
    ),
    ("2023-03-02", "Ukraine Today (Ukrinform)", 1409): (
        "Bodies of fallen defenders returned since the invasion."
    ),
    ("2024-01-03", "i24NEWS", 2598): (
        "After 48 exchanges. Ukraine gave this figure in December 2023, before the exchange of "
        "3 January 2024."
    ),
    ("2024-12-30", "Al Jazeera / WION", 3956): (
        "Al Jazeera counted 60 exchanges since February 2022; Ukraine numbered the swap of "
        "30 December 2024 its 59th."
    ),
    ("2025-05-23", "Babel", 5147): "After the first day of the Istanbul 1,000-for-1,000 exchange.",
    ("2025-06-16", "Euromaidan Press", 15801): (
        "Bodies returned since February 2022, including the five rounds of June 2025."
    ),
    ("2025-07-02", "UNN", 5757): (
        "The same figure as on 25 May 2025, although several stages of the second Istanbul "
        "exchanges, whose numbers were withheld, had taken place by then. Of these, 294 were "
        "civilians."
    ),
    ("2025-10-15", "Interfax-Ukraine", 6235): (
        "After 69 exchanges. Lower than the 'more than 7,000' Zelensky gave on 2 October 2025."
    ),
    ("2025-10-15", "Radio Svoboda", 6235): (
        "After 69 exchanges. Lower than the 'more than 7,000' Zelensky gave on 2 October 2025."
    ),
    ("2025-11-27", "Radio Svoboda", 6266): (
        "Includes 31 civilians freed from Belarus on 22 November 2025, which Ukraine's "
        "Coordination Headquarters called a return, not an exchange."
    ),
}

# Sources of left-out running totals that no exchange cites: each joins the stage it describes
# (the UAE's count after a swap it mediated; the headquarters' annual report beside the other copy
# of it), so that no reference URL is lost. A claim here replaces the reference's.
PLACED_TOTAL_SOURCES: dict[str, tuple[list[tuple[str, str]], str | None]] = {
    "https://www.oodaloop.com/briefs/2024/09/16/russia-and-ukraine-exchange-103-prisoners-each-in-"
    "deal-mediated-by-uae/": ([("2024-09-14-103-for-103", "2024-09-14")], None),
    "https://www.wam.ae/en/article/3blvr3k4-latest-uae-mediation-efforts-succeed-with-exchange": (
        [("2026-02-05-157-for-157", "2026-02-05")],
        None,
    ),
    # 190 people in the UAE's ninth mediation of 2024, 2,184 in all: 1,994 after the eighth
    # (14 September) plus the 95 for 95 of 18 October.
    "https://www.khaleejtimes.com/ml/uae/190-captives-released-after-uae-mediation-between-russia-"
    "ukraine": ([("2024-10-18-95-for-95", "2024-10-18")], None),
    "https://uatv.ua/en/coordination-headquarters-using-full-intelligence-arsenal-to-bring-"
    "prisoners-home-budanov": ([("2025-03-19-175-for-175", "2025-03-19")], None),
    "https://megapolys.kyiv.ua/2026/01/20/koordshtab-nazvav-chyslo-viyskovykh-i-tsyvilnykh-"
    "povernutykh-za-rik-z-polonu": ([("2025-06-istanbul-2-pow-track", "2025-07-23")], None),
    "https://thelittletwentieth.com/2025/08/15/ukraine-secures-the-release-of-84-citizens-from-"
    "russian-captivity-in-a-landmark-prisoner-swap": (
        [("2025-08-14-84-for-84", "2025-08-14")],
        None,
    ),
    "https://slovoidilo.ua/2023/11/10/infografika/suspilstvo/skilky-ukrayincziv-povernulysya-"
    "rosijskoho-polonu-chas-povnomasshtabnoyi-vijny": (
        [
            ("2022-03-01-sumy-5-for-1", "2022-03-01"),
            ("2022-03-16-melitopol-mayor", "2022-03-16"),
            ("2022-03-24-first-full-exchange", "2022-03-24"),
        ],
        "Slovo i Dilo's count of publicly reported exchanges: the three of March 2022 returned 15 "
        "servicemen and 20 civilians; about 2,600 Ukrainians freed by November 2023.",
    ),
}
PLACED_ANNOUNCERS = {"Slovo i Dilo": ("Slovo i Dilo", None)}

PROSE_KEYS = {
    "about",
    "title",
    "title_uk",
    "summary",
    "summary_uk",
    "note",
    "notes",
    "claim",
    "disputed_reason",
    "venue",
    "name",
    "name_uk",
    "publisher",
    "announcer",
}
URL_IN_TEXT = re.compile(r"https?://|www\.", re.IGNORECASE)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MEASURES = ("military", "civilian", "people", "remains")


class SeedError(Exception):
    """The reference breaks a rule of the seed; nothing is written."""


class Build:
    """One conversion: the reference, the problems found, and what the report needs."""

    def __init__(self, reference: Json) -> None:
        self.reference = reference
        self.problems: list[str] = []
        self.month_only: list[str] = []
        self.unattributed: list[str] = []
        self.countless: list[str] = []
        self.used: set[object] = set()
        self.slugs: dict[str, str] = {}
        self.rewritten: list[tuple[str, str, str]] = []
        self.merged_duplicates: list[str] = []
        self.left_out_totals: list[str] = []
        self.placed_sources: list[str] = []
        self.conflicts = {c["id"]: c for c in reference["conflicts"]}
        self.placements: dict[tuple[str, str], list[Json]] = defaultdict(list)

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # ---- sources ----

    def published_at(self, value: str | None, url: str) -> str | None:
        if value is None:
            return None
        if DATE.fullmatch(value):
            dt.date.fromisoformat(value)
            return value
        if re.fullmatch(r"\d{4}-\d{2}", value):
            self.month_only.append(f"{value} {url}")
            return None
        raise SeedError(f"unreadable publication date {value!r} for {url}")

    def source(self, raw: Json) -> Json:
        """A v2 source; its announcer is read from the publisher and the claim's opening."""
        announcer, speaks_for = announcer_of(raw["publisher"], raw["claim"])
        return {
            "url": raw["url"],
            "publisher": raw["publisher"],
            "announcer": announcer,
            "speaks_for": speaks_for,
            "published_at": self.published_at(raw.get("published"), raw["url"]),
            "claim": raw["claim"],
            "figures": [],
        }

    # ---- text ----

    def text(self, where: str, original: str | None, rewrite: str | None) -> str | None:
        text = original if rewrite is None else rewrite
        if rewrite is not None and rewrite != original:
            self.rewritten.append((where, original or "", rewrite))
        return text

    # ---- exchanges ----

    def exchange(self, raw: Json, slugs: dict[str, str]) -> Json:
        ref_id = raw["id"]
        where = f"exchange {ref_id}"
        conflict = self.conflicts.get(raw["conflict"])
        if conflict is None:
            raise SeedError(f"{where}: unknown conflict {raw['conflict']!r}")
        terms = [self.terms(raw, version, index) for index, version in enumerate(raw["terms"])]
        stages = [self.stage(raw, stage) for stage in raw["stages"]]
        stages.sort(key=lambda stage: stage["date"])
        involved = {
            party
            for stage in stages
            for release in stage["releases"]
            for party in (release["released_by"], release["received_by"])
        } | {target["received_by"] for version in terms for target in version["targets"]}
        for party in sorted(involved - set(conflict["parties"])):
            self.fail(where, f"party {party!r} is not a party of {conflict['id']}")
        parties = [
            {
                "slug": party,
                "official_number": raw["ukraine_exchange_number"] if party == "ukraine" else None,
            }
            for party in conflict["parties"]
            if party in involved
        ]
        if len(parties) < 2:
            self.fail(where, "an exchange needs at least two parties")
        if raw["ukraine_exchange_number"] is not None and "ukraine" not in involved:
            self.fail(where, "Ukraine's exchange number on an exchange without Ukraine")
        names = {party["slug"] for party in parties}
        for stage in stages:
            for source in stage["sources"]:
                for fig in source["figures"]:
                    if fig["received_by"] not in names:
                        self.fail(f"{where} {stage['date']}", "a figure for a party not in it")
        summary = self.text(f"{where} summary", raw["summary"], summary_rewrite(raw))
        if raw["id"] in SUMMARIES:
            self.used.add(("summary", raw["id"]))
        if raw["agreed_on"] is not None:
            check_date(where, raw["agreed_on"])
        return {
            "slug": slugs[ref_id],
            "conflict": conflict["id"],
            "title": raw["name"],
            "title_uk": raw["name_uk"],
            "summary": summary,
            "summary_uk": None,
            "status": raw["status"],
            "agreed_on": raw["agreed_on"],
            "venue": raw["venue"],
            "mediators": list(raw["mediators"]),
            "parties": parties,
            "terms": terms,
            "stages": stages,
        }

    def terms(self, exchange: Json, raw: Json, index: int) -> Json:
        where = f"exchange {exchange['id']} terms {raw['effective']}"
        key = (exchange["id"], raw["effective"])
        if key in TERMS_NOTES:
            self.used.add(("terms", *key))
        note = self.text(where, raw["note"], hq_spelled_out(TERMS_NOTES.get(key, raw["note"])))
        if raw["effective"] is not None:
            check_date(where, raw["effective"])
        targets = []
        for target in raw["targets"]:
            out = {
                "received_by": target["received_by"],
                **{measure: target.get(measure) for measure in MEASURES},
                "qualifier": qualifier(target.get("qualifier"), where),
            }
            self.check_counts(where, out)
            targets.append(out)
        if raw["planned_stages"] is not None and raw["planned_stages"] < 1:
            self.fail(where, "planned stages must be at least 1")
        return {
            "effective": raw["effective"],
            "kind": "original" if index == 0 else "amendment",
            "planned_stages": raw["planned_stages"],
            "note": note,
            "targets": targets,
            "sources": [self.source(source) for source in raw["sources"]],
        }

    def stage(self, exchange: Json, raw: Json) -> Json:
        ref_id, date = exchange["id"], raw["date"]
        where = f"exchange {ref_id} stage {date}"
        check_date(where, date)
        releases = [self.release(where, release) for release in raw["releases"]]
        if not releases:
            self.fail(where, "a stage needs at least one release")
        release_notes = [release["note"] for release in raw["releases"] if release.get("note")]
        rewrite = STAGE_NOTES.get((ref_id, date))
        if rewrite is None:
            if release_notes:
                self.fail(where, "its releases carry notes: write them into STAGE_NOTES")
            rewrite = hq_spelled_out(raw["notes"])
        else:
            self.used.add(("notes", ref_id, date))
        notes = self.text(f"{where} notes", raw["notes"], rewrite)
        sources = self.stage_sources(exchange, raw, where)
        if not sources:
            self.fail(where, "a published stage needs at least one source")
        return {
            "date": date,
            "notes": notes or "",
            "disputed_reason": None,
            "releases": releases,
            "sources": sources,
        }

    def stage_sources(self, exchange: Json, raw: Json, where: str) -> list[Json]:
        by_url: dict[str, Json] = {}
        for source in raw["sources"]:
            if source["url"] in by_url:
                self.merged_duplicates.append(f"{where}: {source['url']}")
                continue
            by_url[source["url"]] = self.source(source)
        claimed: dict[str, str] = {}
        for claim in raw["claims"]:
            url = claim["source"]["url"]
            by = claim["by"]
            if by not in CLAIM_SPEAKS_FOR:
                raise SeedError(f"{where}: no speaks_for known for the announcer {by!r}")
            if url in claimed and claimed[url] != by:
                raise SeedError(f"{where}: two announcers claim through one source {url}")
            claimed[url] = by
            if url not in by_url:
                by_url[url] = self.source(claim["source"])
            source = by_url[url]
            source["announcer"] = by
            source["speaks_for"] = CLAIM_SPEAKS_FOR[by]
            source["figures"].extend(self.claim_figures(exchange, raw, claim, where))
        for placed in self.placements.pop((exchange["id"], raw["date"]), []):
            if placed["url"] in by_url:
                raise SeedError(f"{where}: placed source {placed['url']} is there already")
            by_url[placed["url"]] = placed
        return list(by_url.values())

    def claim_figures(self, exchange: Json, stage: Json, claim: Json, where: str) -> list[Json]:
        kind = "remains" if claim.get("remains") is not None else "living"
        quality = qualifier(claim["qualifier"], where)
        key = (exchange["id"], stage["date"], claim["by"])
        counts = {measure: claim.get(measure) for measure in MEASURES}
        said = f"{where}: {claim['by']} ({claim['about']}): {claim['source']['claim']}"
        if key in SPLIT_CLAIMS:
            self.used.add(("split", *key))
            self.unattributed.append(f"{said} [split by receiving party, as its text gives]")
            figures = [
                figure(party, "living", people=count, qualifier=quality)
                for party, count in SPLIT_CLAIMS[key]
            ]
            for out in figures:
                self.check_counts(where, out)
            return figures
        if all(value is None for value in counts.values()):
            self.countless.append(said)
            return []
        if key in WHOLE_OPERATION_CLAIMS:
            self.used.add(("whole", *key))
            self.unattributed.append(f"{said} [{claim.get('note')}]")
            return []
        match = ONE_PARTY.fullmatch(claim["about"])
        if match is None:
            self.unattributed.append(said)
            return []
        out = figure(match.group(1), kind, qualifier=quality, **counts)
        self.check_counts(where, out)
        return [out]

    def release(self, where: str, raw: Json) -> Json:
        kind = raw["kind"]
        if kind not in ("living", "remains"):
            self.fail(where, f"unknown release kind {kind!r}")
        out = {
            "released_by": raw["released_by"],
            "received_by": raw["received_by"],
            "kind": kind,
            **{measure: raw.get(measure) for measure in MEASURES},
            "qualifier": qualifier(raw["qualifier"], where),
            "outside_deal": bool(raw["outside_deal"]),
            "categories": dict(raw.get("categories") or {}),
            "date": raw.get("date"),
        }
        if out["released_by"] == out["received_by"]:
            self.fail(where, f"{out['released_by']} cannot release to itself")
        living = [out[measure] for measure in ("military", "civilian", "people")]
        if kind == "remains" and any(value is not None for value in living):
            self.fail(where, "a remains release counts only remains")
        if kind == "living" and out["remains"] is not None:
            self.fail(where, "a living release counts no remains")
        self.check_counts(where, out)
        total = out["people"] if kind == "living" else out["remains"]
        for name, value in out["categories"].items():
            if not isinstance(value, int) or value < 0:
                self.fail(where, f"category {name} must be a non-negative count")
            elif total is not None and value > total:
                self.fail(where, f"category {name} ({value}) is above the release's {total}")
        if out["date"] is not None:
            check_date(where, out["date"])
        return out

    def check_counts(self, where: str, counts: Json) -> None:
        for measure in MEASURES:
            value = counts.get(measure)
            if value is not None and (not isinstance(value, int) or value < 0):
                self.fail(where, f"{measure} must be a non-negative count, not {value!r}")
        military, civilian, people = (counts.get(m) for m in ("military", "civilian", "people"))
        if military is not None and civilian is not None and people is not None:
            if people != military + civilian:
                self.fail(where, f"people ({people}) is not military + civilian")
        elif people is not None and people < (military or 0) + (civilian or 0):
            self.fail(where, f"people ({people}) is fewer than its parts")

    # ---- official totals ----

    def official_totals(self, exchange_urls: set[str]) -> list[Json]:
        kept = []
        for raw in self.reference["running_totals"]:
            url = raw["source"]["url"]
            label = f"{raw['party']} {raw['metric']} {raw['as_of']} {raw['people_returned']}"
            reason = self.left_out_reason(raw)
            if reason is not None:
                self.left_out_totals.append(f"{label} ({raw['source']['publisher']}): {reason}")
                if url not in exchange_urls:
                    self.place(raw["source"])
                continue
            holders = [c["id"] for c in self.conflicts.values() if raw["party"] in c["parties"]]
            if len(holders) != 1:
                raise SeedError(f"total {label}: its party is in {len(holders)} conflicts")
            kept.append(
                {
                    "conflict": holders[0],
                    "party": raw["party"],
                    "as_of": raw["as_of"],
                    "measure": TOTAL_METRICS[raw["metric"]],
                    "figure": raw["people_returned"],
                    "qualifier": qualifier(raw["qualifier"], label),
                    "note": self.total_note(raw),
                    "source": self.source(raw["source"]),
                }
            )
        return kept

    def total_note(self, raw: Json) -> str | None:
        key = (raw["as_of"], raw["source"]["publisher"], raw["people_returned"])
        if key in TOTAL_NOTES:
            self.used.add(("total", *key))
            return TOTAL_NOTES[key]
        parts = []
        if raw.get("after_exchange") is not None:
            more = "more than " if raw.get("after_exchange_qualifier") == "more_than" else ""
            parts.append(f"After {more}{raw['after_exchange']} exchanges.")
        if raw.get("civilians_within_total") is not None:
            parts.append(f"Of these, {raw['civilians_within_total']:,} were civilians.")
        if raw.get("military") is not None and raw.get("civilian") is not None:
            parts.append(
                f"Of these, {raw['military']:,} were military and {raw['civilian']:,} civilians."
            )
        if raw.get("returned_in_2024") is not None:
            parts.append(f"Of these, {raw['returned_in_2024']:,} returned in 2024.")
        if raw.get("returned_outside_exchanges") is not None:
            parts.append(
                f"A further {raw['returned_outside_exchanges']:,} were returned outside exchanges."
            )
        if raw.get("note"):
            raise SeedError(
                f"running total {key} has a note: write a reader-facing one in TOTAL_NOTES"
            )
        return " ".join(parts) or None

    def left_out_reason(self, raw: Json) -> str | None:
        if raw["party"] not in {p["id"] for p in self.reference["parties"]}:
            return f"a mediator's total ({raw['party']}), not a party's"
        if raw["metric"] == "people_returned_in_year":
            return "a calendar-year figure, not a cumulative count"
        if raw["metric"] == "exchange_number_only":
            return "gives only an exchange number, no count"
        if raw["metric"] not in TOTAL_METRICS:
            raise SeedError(f"unknown running-total metric {raw['metric']!r}")
        if raw["source"]["url"] in LEFT_OUT_TOTALS_BY_URL:
            self.used.add(("left out", raw["source"]["url"]))
            return LEFT_OUT_TOTALS_BY_URL[raw["source"]["url"]]
        if raw["as_of"] is None:
            return "no date it applies to"
        if raw["people_returned"] is None:
            return "no figure"
        return None

    def place(self, raw: Json) -> None:
        url = raw["url"]
        if url not in PLACED_TOTAL_SOURCES:
            raise SeedError(f"the left-out total's source {url} would be lost: place it")
        stages, claim = PLACED_TOTAL_SOURCES[url]
        for ref_id, date in stages:
            source = {**raw, "claim": claim or raw["claim"]}
            out = self.source(source)
            if raw["publisher"] in PLACED_ANNOUNCERS:
                out["announcer"], out["speaks_for"] = PLACED_ANNOUNCERS[raw["publisher"]]
            self.placements[(ref_id, date)].append(out)
            self.placed_sources.append(f"{url} -> {ref_id} {date}")

    # ---- the whole file ----

    def run(self, old_slugs: list[str]) -> Json:
        reference = self.reference
        exchange_urls = set(urls(reference["exchanges"]))
        self.slugs = {
            e["id"]: SLUG_OVERRIDES.get(e["old_id"], e["old_id"]) if e.get("old_id") else e["id"]
            for e in reference["exchanges"]
        }
        totals = self.official_totals(exchange_urls)
        exchanges = [self.exchange(raw, self.slugs) for raw in reference["exchanges"]]
        self.check_all_used()
        for (ref_id, date), _sources in self.placements.items():
            self.fail(f"exchange {ref_id} stage {date}", "a placed source found no such stage")
        exchanges.sort(key=first_date)  # stable: same-day exchanges keep the reference's order
        seed = {
            "about": ABOUT,
            "parties": [
                {"slug": p["id"], "name": p["name"], "name_uk": p.get("name_uk")}
                for p in reference["parties"]
            ],
            "conflicts": [
                {
                    "slug": c["id"],
                    "name": c["name"],
                    "name_uk": c.get("name_uk"),
                    "parties": list(c["parties"]),
                }
                for c in reference["conflicts"]
            ],
            "exchanges": exchanges,
            "official_totals": totals,
        }
        self.check_whole(seed, old_slugs)
        if self.problems:
            raise SeedError("\n".join(self.problems))
        return seed

    def check_all_used(self) -> None:
        """Every rewrite and rule written for this reference found its place in it."""
        wanted = {
            *(("notes", *key) for key in STAGE_NOTES),
            *(("terms", *key) for key in TERMS_NOTES),
            *(("summary", key) for key in SUMMARIES),
            *(("split", *key) for key in SPLIT_CLAIMS),
            *(("whole", *key) for key in WHOLE_OPERATION_CLAIMS),
            *(("total", *key) for key in TOTAL_NOTES),
            *(("left out", url) for url in LEFT_OUT_TOTALS_BY_URL),
        }
        for key in sorted(map(str, wanted - self.used)):
            self.fail("rewrites", f"{key} matches nothing in the reference")

    def check_whole(self, seed: Json, old_slugs: list[str]) -> None:
        slugs = [e["slug"] for e in seed["exchanges"]]
        for slug, count in Counter(slugs).items():
            if count > 1:
                self.fail("exchanges", f"slug {slug!r} is used {count} times")
        for slug in old_slugs:
            if slug not in slugs:
                self.fail("exchanges", f"today's slug {slug!r} is missing")
        for e in seed["exchanges"]:
            dates = [stage["date"] for stage in e["stages"]]
            if len(dates) != len(set(dates)):
                self.fail(f"exchange {e['slug']}", "two stages on one day")
        reference_urls, seed_urls = set(urls(self.reference)), set(urls(seed))
        for url in sorted(reference_urls - seed_urls):
            self.fail("sources", f"reference URL missing from the seed: {url}")
        for url in sorted(seed_urls - reference_urls):
            self.fail("sources", f"URL not in the reference: {url}")
        for url in sorted(seed_urls):
            if not re.match(r"https?://[^/\s]+", url):
                self.fail("sources", f"not an http(s) address: {url}")
        for path, key, value in strings(seed):
            if key in PROSE_KEYS and URL_IN_TEXT.search(value):
                self.fail(path, f"a web address in reader-facing text: {value!r}")
            if key in {"summary", "note", "notes", "disputed_reason", "about"}:
                for phrase in NOTEBOOK_PHRASES:
                    if phrase.lower() in value.lower():
                        self.fail(path, f"research phrasing {phrase!r}: {value!r}")
        valid_qualifiers = {"exact", "about", "at_least"}
        for path, key, value in strings(seed):
            if key == "qualifier" and value not in valid_qualifiers:
                self.fail(path, f"qualifier {value!r}")


def figure(received_by: str, kind: str, *, qualifier: str, **counts: int | None) -> Json:
    """A source figure in the release shape, without released_by."""
    return {
        "received_by": received_by,
        "kind": kind,
        **{measure: counts.get(measure) for measure in MEASURES},
        "qualifier": qualifier,
    }


def check_date(where: str, value: str) -> None:
    if not DATE.fullmatch(value):
        raise SeedError(f"{where}: {value!r} is not a YYYY-MM-DD date")
    dt.date.fromisoformat(value)


def qualifier(value: str | None, where: str) -> str:
    if value not in QUALIFIERS:
        raise SeedError(f"{where}: unknown qualifier {value!r}")
    return QUALIFIERS[value]


def announcer_of(publisher: str, claim: str) -> tuple[str | None, str | None]:
    """Who a source quotes, read conservatively from its publisher and the opening of its claim."""
    for marker, announcer, speaks_for in PUBLISHER_ANNOUNCERS:
        if marker in publisher:
            return (announcer or publisher), speaks_for
    opening = re.match(r"([^:;,.]{1,70}):\s", claim)
    if opening is None or opening.group(1) not in CLAIM_PREFIXES:
        return None, None
    announcer, speaks_for = CLAIM_PREFIXES[opening.group(1)]
    rest = claim[opening.end() :]
    for match in OTHER_SPEAKER.finditer(rest):
        if CLAIM_PREFIXES.get(match.group(1)) != (announcer, speaks_for):
            return None, None  # several announcers in one claim: none of them is the source's
    return announcer, speaks_for


def hq_spelled_out(text: str | None) -> str | None:
    return (
        None
        if text is None
        else text.replace("Ukraine's HQ", "Ukraine's Coordination Headquarters")
    )


def summary_rewrite(raw: Json) -> str | None:
    rewrite = hq_spelled_out(SUMMARIES.get(raw["id"], raw["summary"]))
    return None if rewrite == raw["summary"] else rewrite


def first_date(exchange: Json) -> str:
    dates = [stage["date"] for stage in exchange["stages"]]
    date = min(dates) if dates else exchange["agreed_on"]
    if date is None:
        raise SeedError(f"exchange {exchange['slug']} has neither stages nor a date agreed")
    return str(date)


def urls(value: Any) -> Iterator[str]:
    """Every "url" anywhere in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "url" and isinstance(item, str):
                yield item
            else:
                yield from urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls(item)


def strings(value: Any, path: str = "$", key: str = "") -> Iterator[tuple[str, str, str]]:
    """Every string in a JSON value, with its path and the key it is under."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from strings(item, f"{path}.{name}", name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]", key)
    elif isinstance(value, str):
        yield path, key, value


def disputed_by_figures(stage: Json) -> bool:
    """What the tracker will derive: two sources' figures differ for one party, kind and measure."""
    seen: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for source in stage["sources"]:
        for fig in source["figures"]:
            for measure in MEASURES:
                if fig[measure] is not None:
                    seen[(fig["received_by"], fig["kind"], measure)].add(fig[measure])
    return any(len(values) > 1 for values in seen.values())


def report(build: Build, seed: Json, output: Path) -> str:
    exchanges = seed["exchanges"]
    stages = [stage for e in exchanges for stage in e["stages"]]
    sources = [
        *(s for e in exchanges for version in e["terms"] for s in version["sources"]),
        *(s for stage in stages for s in stage["sources"]),
        *(t["source"] for t in seed["official_totals"]),
    ]
    figures = sum(len(s["figures"]) for s in sources)
    lines = [
        f"wrote {output}",
        f"exchanges {len(exchanges)}, stages {len(stages)}, sources {len(sources)}, "
        f"distinct URLs {len(set(urls(seed)))}, source figures {figures}",
        f"official totals kept {len(seed['official_totals'])}, "
        f"left out {len(build.left_out_totals)}",
        f"month-only publication dates made null: {len(build.month_only)}",
        f"texts rewritten: {len(build.rewritten)}",
    ]
    sections = (
        ("left out", build.left_out_totals),
        ("month-only dates", build.month_only),
        ("claims with counts that could not be attributed", build.unattributed),
        ("claims that give no count", build.countless),
        ("duplicate stage sources merged", build.merged_duplicates),
        ("left-out totals' sources placed on stages", build.placed_sources),
    )
    for title, items in sections:
        lines.append(f"-- {title}:")
        lines.extend(f"   {item}" for item in items)
    reference = {
        (build.slugs[e["id"]], s["date"]): s["status"]
        for e in build.reference["exchanges"]
        for s in e["stages"]
    }
    lines.append("-- stages whose derived dispute differs from the reference's status:")
    for e in exchanges:
        for stage in e["stages"]:
            was = reference[(e["slug"], stage["date"])]
            if disputed_by_figures(stage) != (was == "disputed"):
                lines.append(f"   {e['slug']} {stage['date']}: reference {was}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    reference = json.loads(args.reference.read_text(encoding="utf-8"))
    build = Build(reference)
    try:
        seed = build.run(KEPT_SLUGS)
    except SeedError as error:
        sys.stderr.write(f"build_seed: the seed was not written:\n{error}\n")
        return 1
    text = json.dumps(seed, ensure_ascii=False, indent=1) + "\n"
    args.output.write_text(text, encoding="utf-8")
    if not args.quiet:
        sys.stdout.write(report(build, seed, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
