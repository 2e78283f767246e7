"""The search tokens (store/search_text.py), written once for both databases: Chinese as characters and adjacent
pairs, words whole and case folded, nothing a user types ever query syntax, and snippets' marks on the original."""
import pytest

from imdemo.store.search_text import index_text, match_spans, query_terms, tokens


@pytest.mark.parametrize("text, expected", [
    ("你好吗", ["你好", "好吗", "你", "好", "吗"]),  # a run's pairs together, then its characters
    ("Hello, WORLD!", ["hello", "world"]),
    ("Ｈｅｌｌｏ　世界", ["hello", "世界", "世", "界"]),  # full-width forms (NFKC)
    ("张三说：2024年见", ["张三", "三说", "张", "三", "说", "2024", "年见", "年", "见"]),
    ("hello世界", ["hello", "世界", "世", "界"]),  # no space needed between the scripts
    ("ｶﾀｶﾅ", ["カタ", "タカ", "カナ", "カ", "タ", "カ", "ナ"]),  # half-width katakana, bigrammed like Han
    ("Straße", ["strasse"]), ("cafe\u0301", ["café"]),  # case folded; a combining accent joins its letter
    ("हिन्दी", ["हिन्दी"]),  # vowel signs are marks inside the word, not separators
    ("ok 🎉!", ["ok", "🎉"]), ("x_y-z", ["x", "y", "z"]), ("!!! ...", []),
])
def test_a_message_is_indexed_by_words_and_by_each_cjk_character_and_pair(text, expected):
    assert tokens(text) == expected
    assert index_text(text) == " ".join(expected)


def test_a_very_long_word_is_cut_alike_in_messages_and_queries():
    word = "a" * 300
    assert tokens(word) == ["a" * 64]
    assert [t.tokens for t in query_terms(word)] == [("a" * 64,)]


@pytest.mark.parametrize("query, expected", [
    ("张", [("张",)]), ("你好", [("你好",)]), ("你好吗", [("你好", "好吗")]),  # 3+: a phrase of adjacent pairs
    ("Hello 你好 hello", [("hello",), ("你好",)]),  # each term once
    ('" OR 1=1 --', [("or",), ("1",)]), ("NEAR(", [("near",)]), ("AND", [("and",)]), ("*", []),
    ("'; DROP TABLE im_msg_content; --", [("drop",), ("table",), ("im",), ("msg",), ("content",)]),
])
def test_a_query_is_cut_into_terms_with_no_syntax_left(query, expected):
    assert [t.tokens for t in query_terms(query)] == expected
    for term in query_terms(query):
        assert all(not set(token) & set("\"'*():^-+") for token in term.tokens)


@pytest.mark.parametrize("text, query, marked", [
    ("你好吗？Hello, 你好 WORLD! hello", "你好 hello", ["你好", "Hello", "你好", "hello"]),
    ("Othello said hello", "hello", ["hello"]),  # a word matches whole words only
    ("张三和张四", "张", ["张", "张"]),
    ("ＨＥＬＬＯ there", "hello", ["ＨＥＬＬＯ"]),  # marked in the original, full-width as written
    ("İstanbul", "İSTANBUL", ["İstanbul"]),  # folding lengthens İ; the mark still covers it exactly
])
def test_match_spans_mark_the_original_text(text, query, marked):
    assert [text[a:b] for a, b in match_spans(text, query_terms(query))] == marked
