"""Outlet promo lines: what a news site says about itself around an article, never its news.

"Go to BBCAfrica.com for more news ...", "Follow BBC Kent on Facebook, X and Instagram",
"Listen to highlights from Lincolnshire on BBC Sounds ...", newsletter sign-ups, detik's
"Saksikan Live detikPagi:" and programme slogans, an outlet describing itself. Indexed, they
were passages, and a question about "news from Africa" was answered with the BBC's promo.

Each rule is anchored at the paragraph's first word and needs a word only a promo holds (a
platform, a programme, "newsletter", "di sini:"), on a paragraph of at most
``PROMO_MAX_WORDS``: "Listen to what the minister said ..." stays. The rules are the shapes
counted most often across the BBC 2025, IndoSum and Detik 2025 articles.
"""

from __future__ import annotations

import re

PROMO_MAX_WORDS = 80
"""The longest promo seen is BBC's investigations box (77 words), a contact block."""

PROMO_RULES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        # English (BBC)
        "outlet-site": r"go to bbc\w*\.com\b",
        "follow-outlet": r"(?:you can |why not )?follow (?:bbc\b|[\w&' -]{1,40}? on bbc sounds\b)",
        "listen": r"(?:you can )?listen to\b.*\b(?:bbc sounds|on sounds|listen back|iplayer"
        r"|bbc world service)\b",
        "watch-iplayer": r"(?:you can )?watch\b.*\b(?:on|via) (?:the )?bbc iplayer\b",
        "read-more-from": r"read more (?:stories|news) from\b.*\bbbc\b",
        "newsletter": r"(?:sign up\b.*\b(?:newsletter|inbox|sign up here)\b|outside the uk\? sign up\b"
        r"|.*\bnewsletter\b.*\bsign up here\b)",
        "support-line": r"if you have been affected by\b.*\b(?:support|action ?line)\b",
        "tip-off": r"if you have information about this story\b.*\bget in touch\b"
        r"|get in touch using securedrop\b",
        # Indonesian (detik, outlets' self-descriptions and app pushes)
        "programme": r"(?:saksikan|nikmati)\b.*?detik\s*(?:pagi|sore)\b"
        r"|(?:ikuti|nikmati) terus\b.*\b(?:live streaming|detik\.com)\b",
        "programme-slogan": r"detik (?:pagi|sore), [^.]{1,40}![\"”]?$",
        "programme-replay": r"melihat kembali detik\w+\b.*:$",
        "watch-here": r"(?:tonton|simak|saksikan) juga\b.*\bdi sini\s*:?$",
        "watch-channel": r"(?:saksikan|tonton)\b.*\b(?:di|melalui) (?:kanal )?(?:youtube|tiktok)\b",
        "read-full": r"baca (?:artikel|berita)\b.*\bselengkapnya\b",
        "app": r"(?:download|unduh) aplikasi\b",
        "outlet-about": r"[\w.-]+\.(?:id|com|net|co\.id) adalah (?:portal|situs|media)\b",
        "disclosure": r"[—–-]?\s*disclosure\s*:",
    }.items()
}
_ANY_PROMO = re.compile(
    '["“]?(?:' + "|".join(f"(?:{p.pattern})" for p in PROMO_RULES.values()) + ")", re.IGNORECASE
)
"""Every rule at once, after the stray opening quote the BBC scrape leaves on some lines."""

_SITE_TAIL = re.compile(r"\s*Go to BBC\w*\.com for more news from [^.]{1,60}\.$", re.IGNORECASE)
"""The scrape glues "Go to BBCAfrica.com ..." onto the paragraph before it: a tail that goes."""


def is_promo(text: str, words: int) -> bool:
    """Whether ``text`` (``words`` long) is an outlet's promo line, not news."""
    return words <= PROMO_MAX_WORDS and _ANY_PROMO.match(text) is not None


def without_promo_tail(text: str) -> str:
    """``text`` without a site promo glued onto its end (most texts have none: one cheap test)."""
    return _SITE_TAIL.sub("", text) if "Go to BBC" in text else text
