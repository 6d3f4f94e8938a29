-- The directory's words, bounded (replaces 0012's directory_tsquery; same name, arguments and NULL for no word).
--
-- A GIN index cannot stop a prefix match early: for `'a':*` it reads the posting list of every lexeme that starts
-- with "a" (most of the directory) into a bitmap before the search's LIMIT applies, and every word of a query adds
-- another such read. With 0012's function a `q` of 36 one-letter words ("a b c … 9", 71 characters) read the whole
-- index several times over (about 100 ms at 200,000 users, growing with the population) for a request that costs
-- its sender nothing. Now:
-- - only the first 8 words count (by their position in the text; repeated words once);
-- - a word of 1 or 2 characters matches that whole word only ('go', not 'google'); from 3 characters on, by
--   prefix ('eng':* finds "engineer"). A prefix of 3 characters reads no more than the words it starts, which in
--   real text is no more than a common word.
-- So a search reads at most 8 posting lists, each no larger than a common word's. The function stays IMMUTABLE: a
-- search's statement is planned with the query already built from the value sent.
CREATE OR REPLACE FUNCTION directory_tsquery(words text, fields text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(string_agg(quote_literal(w.lexeme)
                             || CASE WHEN char_length(w.lexeme) >= 3 THEN ':*' || fields
                                     WHEN fields <> '' THEN ':' || fields
                                     ELSE '' END,
                             ' & ' ORDER BY w.lexeme), '')::tsquery
    FROM (SELECT t.lexeme FROM unnest(to_tsvector('simple', coalesce(words, ''))) AS t
          ORDER BY t.positions[1], t.lexeme LIMIT 8) AS w
$$;
