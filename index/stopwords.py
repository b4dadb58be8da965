"""Function words of English and Indonesian, left out of keyword queries and highlighting.

Keyword search only helps when a question shares content words with a passage; function
words ("what", "yang") match everything and make BM25 slow without ranking anything.
"""

from __future__ import annotations

ENGLISH = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    said same say says she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while
    who whom whose why will with would you your yours yourself yourselves tell me latest news about
    anything something happened happen happening know any one ones many much us its let""".split()
)

INDONESIAN = frozenset(
    """ada adalah adanya agar akan akhirnya aku anda apa apakah apabila atas atau bagaimana bagi bahkan
    bahwa baik banyak beberapa begitu belum benar berapa berbagai bersama bisa boleh bukan dalam dan
    dapat dari demikian dengan di dia dilakukan dimana tersebut hal hanya harus hingga ia ialah ini
    itu jadi jika juga kalau kami kamu kan karena ke kepada kemudian kenapa ketika kini kita lagi
    lain lalu lebih maka masih mau melakukan memang mengapa menjadi mereka meski namun nya oleh
    pada para pernah pula punya saat saja sama sangat saya sebagai sebelum sedang sehingga sejak
    selain seperti serta setelah siapa sudah supaya tak tapi telah tentang terhadap tetapi tidak
    untuk walau yaitu yakni yang se per pun lah kah dong sih toh kapan mana sebuah seorang""".split()
)

STOPWORDS = ENGLISH | INDONESIAN
