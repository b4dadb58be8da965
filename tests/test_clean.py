"""Boilerplate removal on the sample article and on the shapes real news pages use."""

from __future__ import annotations

from pathlib import Path

import pytest
from foreign_desk.index.article import Article, Block
from foreign_desk.index.clean import clean_article
from foreign_desk.index.readers import read_path
from hypothesis import given, settings
from hypothesis import strategies as st

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "corpus" / "idn_times_nato_japan.txt"


@pytest.fixture(scope="module")
def sample() -> Article:
    [article] = list(read_path(SAMPLE))
    assert isinstance(article, Article)
    return article


@pytest.fixture(scope="module")
def cleaned(sample: Article) -> Article:
    return clean_article(sample)


def body(article: Article) -> str:
    return "\n".join(b.text for b in article.blocks)


@pytest.mark.parametrize(
    "gone",
    [
        "Baca Juga",
        "Swedia Hentikan Sementara Proses Daftar ke NATO",
        "Profil dan Biodata Marie Kondo",
        "Sempat Diblokir, China Terbitkan Visa Lagi",
        "Verified Writer",
        "Rahmah N",
        "Member IDN Times Community",
        "IDN Times Community adalah media",
        "Topik",
        "Vanny El Rahman",
        "Berita Terkini Lainnya",
        "Ilustrasi bendera Jepang",
        "twitter.com/NATOpress",
        "Jakarta, IDN Times",
    ],
)
def test_sample_boilerplate_is_gone(cleaned: Article, gone: str) -> None:
    assert gone not in body(cleaned)


def test_sample_ends_with_its_last_real_paragraph(cleaned: Article) -> None:
    assert cleaned.blocks[-1].text.startswith("NATO dan Tokyo juga membuat kerja sama baru")
    assert cleaned.blocks[-1].text.endswith("hingga rantai pasokan.")


def test_sample_body_survives(sample: Article, cleaned: Article) -> None:
    assert cleaned.paragraphs[0] == "NATO puji Jepang yang menjatuhkan sanksi ke Rusia"
    assert cleaned.paragraphs[1].startswith(
        "Sekretaris Jenderal (Sekjen) NATO, Jens Stoltenberg, melawat ke Jepang"
    )
    assert [b.text for b in cleaned.blocks if b.kind == "heading"] == [
        b.text for b in sample.blocks if b.kind == "heading"
    ]
    for kept in [
        "kata Stoltenberg dalam pidato singkatnya di Iruma Air Base, Selasa (31/1/2023).",
        "Mereka menyatakan keprihatinan serius atas ketegasan China di perairan",
        "Dalam pertemuan tersebut, Sekjen NATO menyambut baik sanksi tegas Tokyo terhadap Moskow",
    ]:
        assert kept in body(cleaned)
    # 34 paragraphs (standfirst included), of which 3 "Baca Juga", the caption and 6 footer lines go
    assert len(sample.paragraphs) == 34
    assert len(cleaned.paragraphs) == 24


def test_metadata_is_untouched(sample: Article, cleaned: Article) -> None:
    assert (cleaned.title, cleaned.source, cleaned.published, cleaned.language, cleaned.path) == (
        sample.title,
        sample.source,
        sample.published,
        sample.language,
        sample.path,
    )


def test_cleaning_twice_changes_nothing(cleaned: Article) -> None:
    assert clean_article(cleaned) == cleaned


TITLE = "Indonesia dan Jepang sepakati kerja sama maritim"
BODY = "Menteri Luar Negeri kedua negara menandatangani nota kesepahaman di Tokyo pada hari Senin."


def clean_paragraphs(*paragraphs: str, title: str = TITLE) -> list[str]:
    blocks = tuple(Block(p) for p in (BODY, *paragraphs, BODY + " Kerja sama berlaku lima tahun."))
    return clean_article(Article(title=title, blocks=blocks)).paragraphs[1:-1]


@pytest.mark.parametrize(
    "line",
    [
        "Baca Juga: Swedia Hentikan Sementara Proses Daftar ke NATO",
        "Baca juga: Profil Menlu baru",
        "BACA JUGA - Prabowo Terima Kunjungan PM Australia",
        "(Baca: Petugas Pembongkaran Dilempari Batu)",
        "[Baca juga: Dua Pendiri Berkebangsaan Indonesia]",
        "baca: Kemenangan Trump Akhir Mimpi Palestina",
        "SIMAK JUGA: Timnas Kalah dari Malaysia",
        "Lihat juga: Daftar negara anggota ASEAN",
        'Tonton juga video "Menlu Bertemu Mitra dari Jepang" di sini:',
        "Simak Video 'Prabowo Tiba di Tokyo':",
        "[Gambas:Video CNN]",
        "Read more: ASEAN foreign ministers fail to agree",
        "Also read: Philippines says Chinese coast guard used water cannon",
        "ADVERTISEMENT",
        "SCROLL TO CONTINUE WITH CONTENT",
        "Advertisement",
        "A\u0301dvertisement" + "\u0301" * 40 + " ...",  # longer than any marker until folded
        "Share this article ---------------------------------------------------",
        "* * *",
        "(ard)",
        "(res / res)",
        "[sau]",
        "(Uu. H - RF / I015)",
        "Reporter: Ferio Pristiawan",
        "Penulis: Dwi Widijatmiko",
        "Editor: Rina Sari",
        "By Lorne Cook and Sam McNeil",
        "(Reporting by Ananda Teresia; Editing by Kanupriya Kapoor)",
        "Foto: Shutterstock",
        "Tesla (Foto: Tesla)",
        "(twitter.com/NATOpress)",
        "Ilustrasi bendera Jepang (kiri) dan bendera NATO (kanan).",
        "Menlu Retno saat tiba di Tokyo. ANTARA FOTO/Hafidz Mubarak A/foc.",
        "Image caption, Leaders met in Jakarta",
        "Getty Images",
        "Ikuti berita terkini dari kami di Google News",
        "Dimas Prasetyo Verified Writer",
        "Çağrı Aydın Verified Author",  # not ASCII: the author box's rule is not skipped
        TITLE,
        TITLE + "Ilustrasi kapal patroli (Dok. Bakamla)",
    ],
)
def test_boilerplate_line_is_dropped(line: str) -> None:
    assert clean_paragraphs(line) == []


@pytest.mark.parametrize(
    "paragraph",
    [
        "Baca juga buku putih pertahanan yang diterbitkan Kementerian Pertahanan tahun lalu, kata dia.",
        "Stoltenberg said leaders should read the report carefully before the summit in Vilnius.",
        "Readers of the draft said the language on the South China Sea was softer than last year.",
        '"Sudah baca di koran. Tapi, belum tahu seperti apa," katanya.',
        "Topik pembahasan hari ini adalah keamanan maritim di Selat Malaka.",
        "Sumber daya alam Indonesia melimpah, tetapi pengelolaannya belum optimal.",
        "Oleh karena itu, pemerintah memperkuat diplomasi ekonomi di kawasan.",
        "Follow-up talks will be held in Jakarta next month, officials said.",
        "Ilmuwan mengatakan bahwa perubahan iklim mengancam pulau-pulau kecil (dok) di Pasifik.",
        "Harga minyak naik 2 persen setelah serangan di Laut Merah. (Reuters)",
        "Hak cipta atas lagu kebangsaan itu dimiliki negara, kata juru bicara kementerian.",
        "Presiden mengunggah foto pertemuan itu di akun resmi Instagram miliknya.",
        "Lebih dari 8.000 unit terjual hingga 16 Agustus, kata Henry.",
        "Kerja sama maritim",  # shorter than the headline it starts
    ],
)
def test_real_paragraphs_survive(paragraph: str) -> None:
    assert clean_paragraphs(paragraph) == [paragraph]


def test_related_headlines_under_a_bare_marker_go() -> None:
    kept = clean_paragraphs(
        "Baca juga:",
        "Sebelum bercinta, lebih baik minum kopi",
        "Cara mengembalikan hasrat yang hilang",
        "Kedua negara juga sepakat memperluas latihan gabungan angkatan laut.",
    )
    assert kept == ["Kedua negara juga sepakat memperluas latihan gabungan angkatan laut."]


def test_placeholder_marker_is_removed_but_its_paragraph_kept() -> None:
    assert clean_paragraphs("Baca_Juga Namun, latihan gabungan akan ditunda hingga tahun depan.") == [
        "Namun, latihan gabungan akan ditunda hingga tahun depan."
    ]


def test_editor_initials_after_the_last_sentence_are_removed() -> None:
    assert clean_paragraphs("Kedua negara sepakat. (sur / sur)", "Latihan digelar di Natuna. (ard)") == [
        "Kedua negara sepakat.",
        "Latihan digelar di Natuna.",
    ]


def test_scroll_marker_glued_inside_a_paragraph_is_removed() -> None:
    assert clean_paragraphs("Kedua menteri bertemu. SCROLL TO CONTINUE WITH CONTENT Mereka sepakat.") == [
        "Kedua menteri bertemu. Mereka sepakat."
    ]


def test_footer_is_cut_only_near_the_end() -> None:
    early = [Block("Topik:"), Block(BODY)] + [Block(f"{BODY} Paragraf {i}.") for i in range(6)]
    cleaned = clean_article(Article(title=TITLE, blocks=tuple(early)))
    assert len(cleaned.paragraphs) == 7  # "Topik:" alone is dropped, the article is not cut
    late = [Block(f"{BODY} Paragraf {i}.") for i in range(6)] + [
        Block("Berita Terkait"),
        Block("Kunjungan Presiden ke Jepang Dinilai Berhasil oleh Pengamat Hubungan Internasional."),
    ]
    cleaned = clean_article(Article(title=TITLE, blocks=tuple(late)))
    assert len(cleaned.paragraphs) == 6


def test_heading_left_without_paragraphs_goes() -> None:
    blocks = (
        Block(BODY),
        Block("1. Latar belakang", "heading"),
        Block("Baca juga: Sejarah hubungan Indonesia-Jepang"),
        Block("2. Isi perjanjian", "heading"),
        Block(BODY),
    )
    cleaned = clean_article(Article(title=TITLE, blocks=blocks))
    assert [(b.kind, b.text) for b in cleaned.blocks] == [
        ("paragraph", BODY),
        ("heading", "2. Isi perjanjian"),
        ("paragraph", BODY),
    ]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("Jakarta, IDN Times - Sekjen NATO tiba.", "Sekjen NATO tiba."),
        ("Jakarta, CNN Indonesia -- Menlu Retno bertemu mitranya.", "Menlu Retno bertemu mitranya."),
        ("Jakarta (ANTARA) - Presiden tiba di Tokyo.", "Presiden tiba di Tokyo."),
        ("TEMPO.CO, Jakarta - Menteri bertemu duta besar.", "Menteri bertemu duta besar."),
        ("KYIV, Ukraine (AP) — Russia launched drones overnight.", "Russia launched drones overnight."),
        ("Jakarta - Presiden tiba di Tokyo.", "Jakarta - Presiden tiba di Tokyo."),  # no outlet: kept
    ],
)
def test_dateline_is_removed_from_the_first_paragraph(first: str, expected: str) -> None:
    cleaned = clean_article(Article(title=TITLE, blocks=(Block(first), Block(BODY))))
    assert cleaned.paragraphs == [expected, BODY]


PARAGRAPH = st.sampled_from(
    [BODY, "Baca juga:", "Baca juga: Profil Menlu", "Sebelum bercinta, lebih baik minum kopi", "ADS",
     "(ard)", "Kerja sama berlaku lima tahun.", "Topik:", "Foto: Istimewa", "Berita Terkini Lainnya", TITLE,
     "Jakarta, IDN Times - Sekjen NATO tiba.", "Sekjen NATO tiba.", "Kedua negara sepakat. (sur / sur)",
     "Kedua negara sepakat.", "Baca_Juga Namun, latihan ditunda.", "Namun, latihan ditunda.",
     "Jakarta (ANTARA) - Jakarta, IDN Times - Presiden tiba.", "Presiden tiba.", "1. Latar belakang"]
)  # fmt: skip
KIND = st.sampled_from(["paragraph", "heading", "standfirst"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PARAGRAPH, KIND), max_size=20))
def test_cleaning_is_idempotent_and_keeps_order(items: list[tuple[str, str]]) -> None:
    article = Article(title=TITLE, blocks=tuple(Block(t, k) for t, k in items))  # type: ignore[arg-type]
    once = clean_article(article)
    assert clean_article(once) == once
    # every kept block comes from a source block, in the source's order
    source = iter(b.text.lower() for b in article.blocks)
    assert all(any(b.text.lower() in original for original in source) for b in once.blocks)


def test_a_brief_whose_only_line_is_its_headline_keeps_it() -> None:
    """A one-line wire brief (title and text the same) would otherwise have no passage at all."""
    line = "Sekitar 37 orang tewas dalam kerusuhan berdarah di Dili."
    brief = clean_article(Article(title=line, blocks=(Block("Timor Leste", "heading"), Block(line))))
    assert brief.paragraphs == [line]
    # With a body beside it, the repeated headline is still boilerplate.
    full = clean_article(Article(title=line, blocks=(Block(line), Block(BODY))))
    assert full.paragraphs == [BODY]


@pytest.mark.parametrize(
    "line",
    [
        "Go to BBCAsia.com for more news from across the region.",
        '"Go to BBCAsia.com for more news from across the region.',  # the scrape's stray quote
        "You can follow BBC Cumbria on Facebook, X (formerly Twitter) and Instagram.",
        "Follow BBC Fife on X and Facebook. Send your story ideas to fife@example.co.uk.",
        "Why not follow BBC Orkney on Facebook? You can also send us story ideas.",
        "Follow Suffolk news on BBC Sounds, Facebook and Instagram.",
        "Listen to highlights from Cornwall on BBC Sounds or tell us about a story we should cover.",
        "Listen to the best of BBC Radio Kent on Sounds and follow BBC Kent on Instagram.",
        "You can listen to the full report on the BBC World Service's weekly programme.",
        "Watch the whole interview on BBC iPlayer - The Envoy Speaks",
        "Read more stories from Shetland on the BBC and follow BBC Shetland on Facebook.",
        "Sign up here to get our weekly diplomacy briefing straight to your inbox every Friday, "
        "with analysis from correspondents in twelve capitals, interviews with the envoys who shape "
        "the talks and a reading list. Readers outside the UK can sign up here.",
        "Outside the UK? Sign up to the global edition here.",
        "Keep up with the summit season with our correspondent's weekly Talks Desk newsletter. "
        "Readers in the UK can sign up here.",
        "If you have been affected by the issues in this report, support is available from BBC Action Line.",
        "If you have information about this story, please get in touch with our investigations team.",
        "Saksikan Live detikSore:",
        "Saksikan wawancara lengkapnya di program detikPagi edisi Senin.",
        "Ikuti terus ulasan berita pilihan setiap hari secara live streaming di 20.detik.com.",
        '"Detik Pagi, Tetap Semangat!"',
        "Melihat Kembali detikPagi Edisi Khusus Diplomasi:",
        'Tonton juga "Menlu Bertemu Mitra ASEAN di Jakarta" di sini:',
        "Saksikan wawancara lengkapnya di kanal YouTube kami.",
        'Baca artikel detikNews, "Menlu Terima Dubes Jepang" selengkapnya di sini.',
        "Download aplikasi kami untuk berita terbaru setiap hari.",
        "KabarTekno.id adalah portal berita teknologi. Kamu bisa bergabung dengan komunitas pembaca kami.",
        "— Disclosure: KabarTekno merupakan media partner acara ini.",
    ],
)
def test_outlet_promo_line_is_dropped(line: str) -> None:
    assert clean_paragraphs(line) == []


@pytest.mark.parametrize(
    "paragraph",
    [
        "Listen to what the minister said about the treaty, one diplomat urged reporters in Geneva.",
        '"Listen to us," the foreign minister told the council, "before the ceasefire collapses."',
        "Follow the money, the senator told the committee hearing on sanctions.",
        "Sign up deadlines for the exchange programme were extended to March, the ministry said.",
        "Watch for a compromise on tariffs next week, analysts at the bank said.",
        "The BBC's weekly newsletter drew complaints from readers in Canada about the King's silence.",
        "If you have information about the hostages, call the hotline, the foreign ministry said.",
        "Disclosure of the cables was ordered by the court on Monday.",
        "Saksikan bagaimana kedua menteri berjabat tangan, kata juru bicara Kementerian Luar Negeri.",
        "Laman kemlu.go.id adalah sumber resmi daftar perwakilan RI di luar negeri, kata Retno.",
        "Ikuti aturan yang berlaku di negara tujuan, pesan Kedutaan Besar RI kepada para pekerja migran.",
    ],
)
def test_news_that_reads_like_a_promo_survives(paragraph: str) -> None:
    assert clean_paragraphs(paragraph) == [paragraph]


def test_site_promo_glued_onto_a_paragraph_is_cut_off() -> None:
    kept = clean_paragraphs(
        "Some names were changed for their safetyGo to BBCAfrica.com for more news from the continent."
    )
    assert kept == ["Some names were changed for their safety"]
