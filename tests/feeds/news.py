"""News fixtures written for these tests (no publisher's text), shaped like the real feeds and pages
in ../shared/data/feeds_fixtures and tests/fetch/fixtures: a Guardian-style RSS 2.0 feed with
``?CMP=`` links and ``dc:creator``, an ANTARA-style feed with ``content:encoded`` and enclosures,
a Detik-style feed whose GUIDs change, an Atom wire feed, and article pages wrapped in the
navigation, share buttons, "Baca juga" lines and footers that extraction must drop.

Articles are short (one passage each) because embedding is the slow part of every test.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import format_datetime


@dataclass(frozen=True)
class Story:
    """An article page and the feed item that links to it (``path`` on the fixture server)."""

    path: str
    title: str
    paragraphs: tuple[str, ...]
    published: str  # ISO with zone
    site: str = "guardian"  # page layout: guardian | antara | wire
    author: str = "Foreign Desk test fixture"
    summary: str = ""
    guid: str | None = None
    link_suffix: str = ""  # tracking parameters a feed adds to the link
    extra: dict[str, str] = field(default_factory=dict)

    def with_(self, **changes: object) -> Story:
        return replace(self, **changes)  # type: ignore[arg-type]


PATROL = Story(
    path="/world/2024/mar/05/indonesia-australia-arafura-sea-patrols",
    title="Indonesia and Australia agree joint maritime patrols in the Arafura Sea",
    paragraphs=(
        "Indonesia and Australia will begin joint naval patrols in the Arafura Sea next month, the two "
        "defence ministers announced in Darwin on Tuesday, in a bid to curb illegal fishing and people "
        "smuggling.",
        "Under the agreement, patrol boats from both navies will share radar data and coordinate boarding "
        "operations along the maritime boundary, which was settled by treaty in 1997.",
        "\u201cOur fishermen and our coastguards face the same criminal networks,\u201d the Indonesian "
        "minister told reporters after the signing ceremony.",
        "Officials said the first combined patrol would involve four vessels and a surveillance aircraft, "
        "with a review of the arrangement planned after six months.",
    ),
    published="2024-03-05T09:15:00+00:00",
    summary="Defence ministers sign a pact in Darwin to share radar data and board vessels together",
    link_suffix="?CMP=Share_iOSApp_Other",
)

PATROL_UPDATED = PATROL.with_(
    title="Indonesia and Australia agree joint maritime patrols in the Arafura Sea, first mission sails",
    paragraphs=(
        *PATROL.paragraphs[:3],
        "The first combined patrol set sail from Kupang on Friday with five vessels and a surveillance "
        "aircraft, a week earlier than planned, officials said.",
    ),
    summary="The first joint patrol left Kupang on Friday, a week ahead of schedule",
)

SUDAN = Story(
    path="/berita/4012399/menlu-ri-pastikan-evakuasi-wni-dari-sudan-berjalan-lancar",
    title="Menlu RI pastikan evakuasi WNI dari Sudan berjalan lancar",
    paragraphs=(
        "Jakarta (ANTARA) - Menteri Luar Negeri RI memastikan evakuasi warga negara Indonesia dari Sudan "
        "berjalan lancar setelah rombongan terakhir tiba di Jeddah pada Selasa.",
        "Sebanyak 385 WNI, sebagian besar pelajar dan pekerja migran, diberangkatkan melalui Port Sudan "
        "menggunakan kapal dan pesawat TNI Angkatan Udara.",
        "\u201cKami terus berkoordinasi dengan otoritas setempat dan negara sahabat agar seluruh WNI dapat "
        "dipulangkan dengan selamat,\u201d kata Menlu dalam keterangan pers di Jakarta.",
        "Kementerian Luar Negeri juga membuka posko pengaduan bagi keluarga yang belum mendapat kabar dari "
        "kerabatnya di Khartoum.",
    ),
    published="2024-03-05T14:30:00+07:00",
    site="antara",
    author="Yuni Arisandy",
    summary="Rombongan terakhir WNI dari Sudan tiba di Jeddah",
)

GAZA = Story(
    path="/berita/4012460/indonesia-kirim-kapal-rumah-sakit-untuk-korban-perang-di-gaza",
    title="Indonesia kirim kapal rumah sakit untuk korban perang di Gaza",
    paragraphs=(
        "Jakarta (ANTARA) - Pemerintah Indonesia memberangkatkan kapal rumah sakit TNI Angkatan Laut menuju "
        "perairan Mesir untuk membantu korban perang di Gaza.",
        "Kapal tersebut membawa puluhan tenaga medis, obat-obatan dan bahan makanan yang akan disalurkan "
        "melalui pintu perbatasan Rafah.",
        "Panglima TNI mengatakan misi kemanusiaan ini dijadwalkan berlangsung selama tiga bulan dan dapat "
        "diperpanjang sesuai kebutuhan di lapangan.",
    ),
    published="2024-03-06T08:00:00+07:00",
    site="antara",
    summary="Kapal rumah sakit TNI AL berangkat menuju perairan Mesir",
)

WIRE = Story(
    path="/wire/2024/03/04/japan-philippines-reciprocal-access",
    title="Japan and the Philippines sign reciprocal troop access deal",
    paragraphs=(
        "MANILA (Reuters) - Japan and the Philippines signed a reciprocal access agreement on Monday that "
        "allows their forces to train on each other's territory, as both countries seek closer defence ties "
        "amid tensions in the South China Sea.",
        "The pact, signed by the two defence ministers in Manila, must still be ratified by Japan's "
        "parliament before it takes effect.",
        "Officials said joint exercises under the deal could begin next year and would include disaster "
        "relief drills as well as maritime security training.",
    ),
    published="2024-03-04T06:00:00+00:00",
    site="wire",
    summary="The pact lets the two countries' forces train on each other's territory",
)

WIRE_COPY = WIRE.with_(
    path="/internasional/2024/03/04/jepang-filipina-teken-perjanjian-akses-timbal-balik",
    paragraphs=(
        "MANILA, Philippines (Reuters) - Japan and the Philippines signed a reciprocal access agreement on "
        "Monday that allows their forces to train on each other's territory, as both countries seek closer "
        "defence ties amid tensions in the South China Sea.",
        *WIRE.paragraphs[1:],
        "(Reporting by the Manila bureau; editing by the Asia desk)",
    ),
    site="guardian",
    published="2024-03-04T07:10:00+00:00",
)

CAPTION = Story(
    path="/foto/2024/03/05/jakarta-pagi-ini",
    title="Foto: Jakarta, 5/3",
    paragraphs=("Jakarta, 5/3 (08.00).",),
    published="2024-03-05T08:00:00+07:00",
    site="bare",
)
"""A photo page: its caption too short to tell its language, and the page declares none (its
feed's language is all there is)."""

NOT_AN_ARTICLE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# -- pages -------------------------------------------------------------------------------------------


def page(story: Story, base: str) -> str:
    """The article page of ``story`` in its site's layout, boilerplate included."""
    url = base + story.path
    body = "\n".join(f"    <p>{html.escape(p, quote=False)}</p>" for p in story.paragraphs)
    if story.site == "bare":
        return _BARE.format(title=html.escape(story.title), url=url, published=story.published, body=body)
    if story.site == "antara":
        return _ANTARA.format(
            title=html.escape(story.title), url=url, published=story.published, author=story.author, body=body
        )
    return _GUARDIAN.format(
        title=html.escape(story.title),
        url=url,
        published=story.published,
        author=story.author,
        body=body,
        site="Foreign Wire" if story.site == "wire" else "the Guardian",
        standfirst=html.escape(story.summary),
    )


_BARE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
</head>
<body><article>
  <h1>{title}</h1>
{body}
</article></body>
</html>
"""

_GUARDIAN = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} | World news | {site}</title>
<meta name="description" content="{standfirst}">
<meta property="og:site_name" content="{site}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
<script type="application/ld+json">{{"@type":"NewsArticle","headline":"{title}","datePublished":"{published}",
"author":[{{"@type":"Person","name":"{author}"}}]}}</script>
</head>
<body>
<a class="skip" href="#maincontent">Skip to main content</a>
<header><nav><ul><li><a href="/">News</a></li><li><a href="/world">World</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/culture">Culture</a></li></ul></nav>
<div class="support">Support us <a href="/contribute">Contribute</a>
<a href="/signin">Sign in</a></div></header>
<main id="maincontent"><article>
  <h1>{title}</h1>
  <div data-gu-name="standfirst"><p>{standfirst}</p></div>
  <address>By <a rel="author" href="/profile/x">{author}</a></address>
  <div class="share"><a href="https://www.facebook.com/dialog/share">Share on Facebook</a>
  <a href="https://twitter.com/intent/tweet">Share on Twitter</a></div>
  <div class="article-body" data-gu-name="body">
{body}
  </div>
  <div class="submeta"><span>Explore more on these topics</span>
  <ul><li><a href="/world/asia">Asia</a></li></ul></div>
</article>
<section><h2>Most viewed</h2><ol><li><a href="/a">Live: markets react to rate decision</a></li>
<li><a href="/b">The best walks in the hills this spring</a></li></ol></section>
</main>
<footer><ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy policy</a></li></ul>
<p>&#169; 2024 Foreign Desk test fixtures. All rights reserved.</p></footer>
</body>
</html>
"""

_ANTARA = """<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<title>{title} - ANTARA News</title>
<meta property="og:site_name" content="ANTARA News">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
</head>
<body>
<header><div class="topbar"><a href="/">ANTARA</a> | <a href="/en">English</a></div>
<nav><ul><li><a href="/">Beranda</a></li><li><a href="/terkini">Terkini</a></li>
<li><a href="/dunia">Dunia</a></li></ul>
<form><input type="text" placeholder="Cari berita..."></form></nav></header>
<div class="container"><article class="post-wrapper">
  <h1 class="post-title">{title}</h1>
  <div class="share-buttons"><span>Bagikan:</span> <a href="#">Facebook</a> <a href="#">WhatsApp</a></div>
  <div class="post-content clearfix">
{body}
    <p>Baca juga: Presiden terima kunjungan Perdana Menteri Australia di Istana Bogor</p>
    <p class="text-muted">Pewarta: {author}<br>Editor: Redaksi Uji</p>
  </div>
  <div class="tags">Tag: <a href="/tag/sudan">Sudan</a> <a href="/tag/wni">WNI</a></div>
</article>
<aside><h3>Berita Terkait</h3><ul><li><a href="/x">Harga beras naik di sejumlah pasar</a></li></ul>
<h3>Terpopuler</h3><ul><li><a href="/y">Jadwal libur panjang akhir pekan</a></li></ul></aside></div>
<footer><a href="/pedoman">Pedoman Media Siber</a> | <a href="/privasi">Kebijakan Privasi</a>
<p>Copyright &#169; 2024 Foreign Desk test fixtures</p></footer>
</body>
</html>
"""


# -- feeds -------------------------------------------------------------------------------------------


def _rfc822(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso))


def rss(title: str, base: str, stories: list[Story], *, language: str = "en-gb", raw_items: str = "") -> str:
    """An RSS 2.0 feed (Guardian/ANTARA shape) linking to ``stories`` on ``base``."""
    items = []
    for s in stories:
        guid = s.guid or base + s.path
        content = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in s.paragraphs[:2])
        items.append(
            f"""    <item>
      <title>{html.escape(s.title)}</title>
      <link>{html.escape(base + s.path + s.link_suffix)}</link>
      <description>&lt;p&gt;{html.escape(s.summary)}&lt;/p&gt;</description>
      <content:encoded><![CDATA[{content}]]></content:encoded>
      <pubDate>{_rfc822(s.published)}</pubDate>
      <guid isPermaLink="false">{html.escape(guid)}</guid>
      <dc:creator>{html.escape(s.author)}</dc:creator>
      <enclosure length="25000" type="image/jpeg" url="{base}/cache/800x533/foto.jpg"/>
    </item>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>{html.escape(title)}</title>
    <link>{base}/</link>
    <description>Foreign Desk test feed</description>
    <language>{language}</language>
{chr(10).join(items)}
{raw_items}
  </channel>
</rss>
"""


def atom(title: str, base: str, stories: list[Story]) -> str:
    """An Atom 1.0 feed (wire shape: ``id`` not a URL, ``wt_mc`` tracking on links)."""
    entries = []
    for s in stories:
        entries.append(
            f"""  <entry>
    <title type="text">{html.escape(s.title)}</title>
    <id>{html.escape(s.guid or "tag:wire,2024:" + s.path)}</id>
    <updated>{s.published}</updated>
    <published>{s.published}</published>
    <link rel="alternate" type="text/html" href="{html.escape(base + s.path)}?wt_mc=rss.wire.beitrag.atom"/>
    <summary type="html">{html.escape(s.summary)}</summary>
  </entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">{html.escape(title)}</title>
  <updated>2024-03-05T11:54:50+01:00</updated>
  <id>{base}/wire/</id>
  <link rel="self" type="application/atom+xml" href="{base}/wire/atom.xml"/>
  <author><name>wire online</name></author>
{chr(10).join(entries)}
</feed>
"""


def item_xml(
    title: str, link: str, *, guid: str | None = None, published: str = "2024-03-05T10:00:00+00:00"
) -> str:
    """One raw RSS ``<item>`` (for links to failing pages)."""
    return f"""    <item>
      <title>{html.escape(title)}</title>
      <link>{html.escape(link)}</link>
      <guid>{html.escape(guid or link)}</guid>
      <pubDate>{_rfc822(published)}</pubDate>
    </item>"""
