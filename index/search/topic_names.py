"""Does an article name a topic? The keyword side of "is this article about this topic"
(``topics.on_topic``): a reader who types a place or a name ("Haiti", "South China Sea", "Laut
China Selatan") expects the articles that name it, while a short topic's query vector may stand
out too little at them for the dense side to find them.

An article names a topic when its headline holds every content word of the topic (not the
function words of ``stopwords``), in any order ("Ukraine war" names "war in Ukraine"), or its
lede (its first sentence, stored with it) holds all the topic's words as a phrase. Words compare
as ``text.tokens`` makes them (folded: no case, no accents; whole words, as FTS5 splits them):
"HAÏTI" names "haiti", "Haitian" does not, nor "Korut" "Korea Utara" (no synonyms, no stems, no
translation: the dense side's job). A word deep in the body names nothing: an alert for every
article that mentions a place in passing is noise. Exact and cheap: a few set and substring
tests per article (the listing weighs its ``topic_recent`` newest, an alert each new article
against every follow), no model, no index.
"""

from __future__ import annotations

from dataclasses import dataclass

from foreign_desk.index.stopwords import STOPWORDS
from foreign_desk.index.text import tokens


@dataclass(frozen=True, slots=True)
class ArticleWords:
    """What of an article may name a topic, tokenized once for every topic weighed against it."""

    headline: frozenset[str]
    lede: str
    """The lede's tokens, each between spaces (`` a b c ``): a phrase is a substring of it."""

    @classmethod
    def of(cls, title: str, lede: str) -> ArticleWords:
        return cls(frozenset(tokens(title)), f" {' '.join(tokens(lede))} ")


@dataclass(frozen=True, slots=True)
class TopicName:
    """A topic as the articles that name it write it."""

    content: frozenset[str]
    """Its content words (all its words when it has nothing else: "US")."""
    phrase: str
    """All its words in order, each between spaces, as ``ArticleWords.lede`` holds them."""

    @classmethod
    def of(cls, topic: str) -> TopicName:
        words = tokens(topic)
        content = frozenset(w for w in words if w not in STOPWORDS) or frozenset(words)
        return cls(content, f" {' '.join(words)} ")

    def named_by(self, article: ArticleWords) -> bool:
        """Whether ``article``'s headline holds every content word, or its lede the phrase."""
        if not self.content:  # a topic of punctuation names nothing
            return False
        return self.content <= article.headline or self.phrase in article.lede
