-- Kiln's SQL functions for PostgreSQL, installed by the PostgreSQL backend on start-up (idempotent).
--
-- kiln_strftime(format, value, modifiers...) is SQLite's strftime() (https://sqlite.org/lang_datefunc.html,
-- as in the SQLite that rusqlite bundles, 3.50), for filters that compile to strftime on SQLite. It ports
-- SQLite's date.c: the same parsers, the same DateTime state machine and the same arithmetic, so that the
-- quirks match too (hour 24, day-of-month overflow kept by 'start of day', printf's rounding of %f/%J...).
--   value:     text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.FFF]]' with ' ' or 'T', an optional 'Z' or '±HH:MM',
--              'HH:MM[:SS[.FFF]]', 'now', 'subsec', a number), double precision, or NULL. Numbers are
--              Julian day numbers unless 'unixepoch' or 'auto' comes first.
--   modifiers: '±NNN day(s)|hour(s)|minute(s)|second(s)|month(s)|year(s)', '±HH:MM[:SS[.FFF]]',
--              '±YYYY-MM-DD[ HH:MM[:SS[.FFF]]]', 'start of day|month|year', 'weekday N', 'unixepoch',
--              'julianday', 'auto', 'ceiling', 'floor', 'subsec' ('subsecond'), 'localtime', 'utc'.
--   format:    %d %e %f %F %G %g %H %I %j %J %k %l %m %M %p %P %R %s %S %T %u %U %V %w %W %Y %%.
-- What SQLite rejects gives NULL. Everything is UTC: 'localtime' and 'utc' act as in SQLite on a server whose
-- time zone is UTC. 'now' is the statement's start, to the millisecond.
--
-- Known differences from SQLite, all on values outside 0000-01-01..9999-12-31:
--   * once a date is out of range or a bare number cannot be a Julian day (e.g. a unix time without
--     'unixepoch'), a later 'localtime' or 'utc' makes SQLite carry on from an invented date (2000-01-01,
--     0000-01-01 or -4713-11-24); here the result stays NULL;
--   * %V, %G and %g within three days of the ends of the range, where SQLite prints garbage.
-- And numbers with more than 15 significant digits (or fractional seconds with more than 15 digits) may
-- differ in the last bit: PostgreSQL parses them correctly rounded, SQLite nearly so.

-- computeJD(): the Julian day in milliseconds of a proleptic-Gregorian date and time (Meeus), NULL outside
-- years -4713..9999. No date (vymd false) means 2000-01-01, no time (vhms false) midnight; tz: minutes east.
CREATE OR REPLACE FUNCTION kiln_strftime_jd(vymd bool, y int, mo int, d int, vhms bool, h int, mi int, s float8, tz int)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN NOT vymd THEN 211813444800000
              WHEN y BETWEEN -4713 AND 9999 THEN
                (36525 * (y - (mo <= 2)::int + 4716) / 100 + 306001 * (mo + 12 * (mo <= 2)::int + 1) / 10000 + d + 38
                 - (y - (mo <= 2)::int + 4800) / 100 + (y - (mo <= 2)::int + 4800) / 400) * 86400000::bigint - 131716800000
         END
         + CASE WHEN vhms THEN h * 3600000 + mi * 60000 + trunc(s * 1000 + 0.5)::bigint - tz * 60000 ELSE 0 END
$$;

-- computeYMD(): {year, month, day} of a Julian day in milliseconds, NULL outside 0..9999-12-31 23:59:59.999.
-- The float8 casts matter: SQLite does these steps in double precision.
CREATE OR REPLACE FUNCTION kiln_strftime_ymd(jd bigint) RETURNS int[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE z bigint; a int; b int; c int; d int; e int; m int;
BEGIN
  IF jd < 0 OR jd > 464269060799999 THEN RETURN NULL; END IF;
  z := (jd + 43200000) / 86400000;
  a := trunc((z + 32044.75::float8) / 36524.25::float8) - 52;
  b := z + 1 + a - (a + 100) / 4 + 25 + 1524;
  c := trunc((b - 122.1::float8) / 365.25::float8);
  d := 36525 * (c & 32767) / 100;
  e := trunc((b - d) / 30.6001::float8);
  m := CASE WHEN e < 14 THEN e - 1 ELSE e - 13 END;
  RETURN ARRAY[CASE WHEN m > 2 THEN c - 4716 ELSE c - 4715 END, m, b - d - trunc(30.6001::float8 * e)::int];
END $$;

-- parseHhMmSs(): 'HH:MM[:SS[.FFF]][ ][Z|±HH:MM][ ]' -> {hour, minute, seconds, minutes east, 1 if Z}, else NULL.
-- (Regular expressions with capture groups are slow in PostgreSQL: match, then cut.)
CREATE OR REPLACE FUNCTION kiln_strftime_hms(t text) RETURNS float8[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE s float8 := 0; n int := 6; f text; z text;
BEGIN
  IF t !~ '^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?[ \t\n\v\f\r]*([+-][0-9]{2}:[0-9]{2}|[Zz])?[ \t\n\v\f\r]*$' THEN
    RETURN NULL;
  END IF;
  IF substr(t, 6, 1) = ':' THEN
    s := substr(t, 7, 2)::int;
    n := 9;
    IF substr(t, 9, 1) = '.' THEN                          -- SQLite truncates to .999 at most
      f := substr(t, 10);
      f := left(f, length(f) - length(ltrim(f, '0123456789')));
      s := s + least(('0.' || left(f, 40))::float8, 0.999::float8);
      n := 10 + length(f);
    END IF;
  END IF;
  z := btrim(substr(t, n), E' \t\n\x0b\f\r');
  IF left(t, 2)::int > 24 OR substr(t, 4, 2)::int > 59 OR s >= 60
     OR z ~ '^[+-]' AND (substr(z, 2, 2)::int > 14 OR substr(z, 5, 2)::int > 59) THEN
    RETURN NULL;
  END IF;
  RETURN ARRAY[left(t, 2)::int, substr(t, 4, 2)::int, s,
               CASE WHEN z ~ '^[+-]' THEN (left(z, 1) || '1')::int * (substr(z, 2, 2)::int * 60 + substr(z, 5, 2)::int) ELSE 0 END,
               (upper(z) = 'Z')::int];
END $$;

-- sqlite3AtoF(): a number as SQLite reads one (' -1.5e3 ', '.5', '7.'), else NULL. Magnitudes above 1e300
-- become ±Infinity, those below the smallest double 0, and other ones below 1e-300 ±1e-300: the date
-- functions treat them alike, and this way no input can make float8 input or arithmetic raise an error.
CREATE OR REPLACE FUNCTION kiln_strftime_num(t text) RETURNS float8 LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE m text; e text; x int; n numeric;
BEGIN
  IF t !~ '^[ \t\n\v\f\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\v\f\r]*$' OR length(t) > 400 THEN
    RETURN NULL;
  END IF;
  IF length(t) <= 300 AND t !~ '[eE]' THEN RETURN t::float8; END IF;
  m := split_part(lower(btrim(t, E' \t\n\x0b\f\r')), 'e', 1);
  IF m !~ '[1-9]' THEN RETURN 0; END IF;
  e := coalesce(substring(t FROM '[eE]([+-]?[0-9]+)'), '0');
  x := CASE WHEN length(ltrim(e, '+-0')) > 4 THEN CASE WHEN e LIKE '-%' THEN -9999 ELSE 9999 END ELSE e::int END;
  n := CASE WHEN x > 700 THEN 1e301 WHEN x < -700 THEN 0 ELSE abs((m || 'e' || x)::numeric) END;
  RETURN CASE WHEN m LIKE '-%' THEN -1 ELSE 1 END
         * CASE WHEN n > 1e300 THEN 'Infinity'::float8 WHEN n < 2.4703282292062328e-324 THEN 0 WHEN n < 1e-300 THEN 1e-300 ELSE n::float8 END;
END $$;

-- x >= 0 rounded as SQLite's printf rounds it (sqlite3FpDecode), to n significant digits or to n decimals.
-- SQLite scales x by 10^k into [9.2e17, 9.2e18) in double-double arithmetic, truncates that to an integer v
-- and rounds v's digits half up. v is computed exactly here: the integer next to x*10^k on the side of the
-- double nearest to x*10^k. (It is not always x's own correct rounding.)
CREATE OR REPLACE FUNCTION kiln_strftime_round(x float8, n int, significant bool)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE k int; q int; m numeric; p numeric; v numeric; r bigint;
BEGIN
  IF x < 1e-20 THEN RETURN 0; END IF;
  k := 17 - floor(log(x));
  WHILE x * 10::float8 ^ k < 9.22337203685477478e17 LOOP k := k + 1; END LOOP;
  WHILE x * 10::float8 ^ (k - 1) >= 9.22337203685477478e17 LOOP k := k - 1; END LOOP;
  q := 53 - floor(ln(x) / ln(2::float8));                   -- x = (x*2^q) / 2^q, x*2^q an integer
  p := 2::numeric ^ q;
  m := (x * 2::float8 ^ q)::bigint * ('1e' || k)::numeric;  -- x*10^k = m / p
  v := div(m, p);
  r := (CASE WHEN m = v * p THEN v ELSE v + 0.5 END)::float8::bigint;   -- the double nearest to x*10^k
  IF m <> v * p AND v + 1 <= r THEN v := v + 1; END IF;
  RETURN round(v * ('1e-' || k)::numeric, CASE WHEN significant THEN n - length(v::text) + k ELSE n END);
END $$;

-- printf("%0*d", w, v).
CREATE OR REPLACE FUNCTION kiln_strftime_pad(v bigint, w int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v < 0 THEN '-' ELSE '' END || lpad(abs(v)::text, greatest(w - (v < 0)::int, length(abs(v)::text)), '0')
$$;

-- strftime() itself. The value comes as text (val) or as a number (num), not both.
-- The variables are SQLite's DateTime; the blocks marked "computeJD" are its computeJD() inlined.
CREATE OR REPLACE FUNCTION kiln_strftime_eval(fmt text, val text, num float8, mods text[])
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  jd bigint;                                   -- the Julian day in milliseconds, when vjd
  y int; mo int; d int;                        -- the date, when vymd (d may overflow the month: 2023-02-31)
  h int := 0; mi int := 0; s float8 := 0;      -- the time, when vhms (h may be 24)
  tz int := 0;                                 -- a UTC offset in minutes, not applied yet
  vjd bool := false; vymd bool := false; vhms bool := false;
  raw bool := false;                           -- s is a bare number, Julian day or unix time still unknown
  nfloor int := 0;                             -- the days 'floor' takes back after a month overflowed
  subsec bool := false; is_utc bool := false; is_local bool := false;
  idx int := 0; m text; lm text; t float8[]; a int[]; r float8; lim float8; xf float8;
  x bigint; yd int; sg int; parts text[]; i int; c text; v numeric; res text;
BEGIN
  IF fmt IS NULL OR mods IS NULL OR val IS NULL AND num IS NULL THEN RETURN NULL; END IF;

  -- the value: parseDateOrTime()
  IF num IS NULL THEN
    IF val ~ '^-?[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN           -- YYYY-MM-DD, then a time or nothing
      i := (left(val, 1) = '-')::int;
      y := substr(val, 1 + i, 4)::int * (1 - 2 * i); mo := substr(val, 6 + i, 2)::int; d := substr(val, 9 + i, 2)::int;
      c := ltrim(substr(val, 11 + i), E' \t\n\x0b\f\rT');
      t := kiln_strftime_hms(c);
      IF mo NOT BETWEEN 1 AND 12 OR d NOT BETWEEN 1 AND 31 OR t IS NULL AND c <> '' THEN RETURN NULL; END IF;
      vymd := true;
      nfloor := greatest(0, d - CASE WHEN mo = 2 THEN 28 + (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0))::int
                                     WHEN mo IN (4, 6, 9, 11) THEN 30 ELSE 31 END);
    ELSE
      t := kiln_strftime_hms(val);                          -- a time alone, on 2000-01-01
      IF t IS NULL THEN
        lm := lower(val COLLATE "C");
        IF lm IN ('now', 'subsec', 'subsecond') THEN
          jd := floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint + 210866760000000;
          vjd := true; is_utc := true; subsec := lm <> 'now';
        ELSE
          num := kiln_strftime_num(val);
          IF num IS NULL THEN RETURN NULL; END IF;
        END IF;
      END IF;
    END IF;
    IF t IS NOT NULL THEN
      h := t[1]; mi := t[2]; s := t[3]; tz := t[4]; vhms := true; is_utc := t[5] = 1;
      IF vymd AND tz <> 0 THEN                              -- computeJD
        jd := kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz);
        IF jd IS NULL THEN RETURN NULL; END IF;
        vjd := true; vymd := false; vhms := false; tz := 0; is_utc := true;
      END IF;
    END IF;
  END IF;
  IF num IS NOT NULL THEN                                   -- setRawDateNumber()
    IF num = 'NaN' THEN RETURN NULL; END IF;
    s := CASE WHEN abs(num) > 1e300 THEN num * 'Infinity' ELSE num END;
    raw := true;
    IF s >= 0 AND s < 5373484.5 THEN jd := trunc(s * 86400000 + 0.5); vjd := true; END IF;
  END IF;

  -- the modifiers: parseModifier()
  FOREACH m IN ARRAY mods LOOP
    idx := idx + 1;
    IF m IS NULL THEN RETURN NULL; END IF;
    lm := lower(m COLLATE "C");

    IF lm = 'auto' AND idx = 1 THEN                         -- a unix time if it can be one
      IF raw AND NOT vjd AND s BETWEEN -210866760000 AND 253402300799 THEN
        jd := trunc(s * 1000 + 210866760000000 + 0.5); vjd := true; vymd := false; vhms := false; tz := 0;
      END IF;
      raw := raw AND NOT vjd;

    ELSIF lm = 'julianday' AND idx = 1 AND raw AND vjd THEN
      raw := false;

    ELSIF lm = 'unixepoch' AND idx = 1 AND raw
          AND s * 1000 + 210866760000000 >= 0 AND s * 1000 + 210866760000000 < 464269060800000 THEN
      jd := trunc(s * 1000 + 210866760000000 + 0.5); vjd := true; raw := false; vymd := false; vhms := false; tz := 0;

    ELSIF lm IN ('subsec', 'subsecond') THEN
      subsec := true;

    ELSIF lm IN ('ceiling', 'floor', 'localtime', 'utc') THEN
      IF lm = 'localtime' AND is_local OR lm = 'utc' AND is_utc THEN CONTINUE; END IF;
      IF NOT vjd THEN                                       -- computeJD
        jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
        IF jd IS NULL THEN RETURN NULL; END IF;
        vjd := true; IF tz <> 0 THEN vymd := false; vhms := false; tz := 0; is_utc := true; END IF;
      END IF;
      IF lm = 'ceiling' THEN                                -- month overflow rolls forward (the default)
        vymd := false; vhms := false; nfloor := 0;
      ELSIF lm = 'floor' THEN                               -- or back to the end of the month
        jd := jd - nfloor * 86400000::bigint; vymd := false; vhms := false;
      ELSIF lm = 'localtime' THEN                           -- toLocaltime(), when local time is UTC
        x := jd;
        yd := 0;                                            -- years shifted by to stay within 1970..2038
        IF jd NOT BETWEEN 210866760000000 AND 213014145600000 THEN
          IF NOT vymd THEN
            a := kiln_strftime_ymd(jd);
            IF a IS NULL THEN RETURN NULL; END IF;          -- SQLite invents a date in year 0 here
            y := a[1]; mo := a[2]; d := a[3];
          END IF;
          IF NOT vhms THEN
            x := (jd + 43200000) % 86400000;
            h := x / 3600000; mi := x / 60000 % 60; s := (x % 60000) / 1000::float8;
          END IF;
          yd := 2000 + y % 4 - y;
          x := kiln_strftime_jd(true, y + yd, mo, d, true, h, mi, s, 0);
        END IF;
        x := x / 1000 * 1000;                               -- through a time_t
        a := kiln_strftime_ymd(x);
        y := a[1] - yd; mo := a[2]; d := a[3];
        h := (x + 43200000) % 86400000 / 3600000; mi := (x + 43200000) % 3600000 / 60000;
        s := (x + 43200000) % 60000 / 1000 + (jd % 1000) * 0.001::float8;
        vymd := true; vhms := true; vjd := false; raw := false; is_local := true; is_utc := false;
      ELSIF jd NOT BETWEEN 0 AND 464269060799999 THEN
        RETURN NULL;                                        -- SQLite invents a date here
      ELSE                                                  -- 'utc': local time to UTC, only jd kept
        vymd := false; vhms := false; raw := false; nfloor := 0; subsec := false; is_utc := true; is_local := false;
      END IF;

    ELSIF lm LIKE 'start of %' OR lm LIKE 'weekday %' THEN
      IF lm LIKE 'start of %' AND NOT (vjd OR vymd OR vhms) THEN RETURN NULL; END IF;
      IF lm LIKE 'weekday %' THEN
        r := kiln_strftime_num(substr(m, 9));
        IF r IS NULL OR r < 0 OR r >= 7 OR r <> trunc(r) THEN RETURN NULL; END IF;
      END IF;
      IF NOT vymd THEN                                      -- computeYMD (no date: 2000-01-01)
        a := CASE WHEN vjd THEN kiln_strftime_ymd(jd) ELSE ARRAY[2000, 1, 1] END;
        IF a IS NULL THEN RETURN NULL; END IF;
        y := a[1]; mo := a[2]; d := a[3];
        vymd := true;
      END IF;
      IF lm LIKE 'start of %' THEN
        vhms := true; h := 0; mi := 0; s := 0; raw := false; tz := 0; vjd := false;
        CASE substr(lm, 10)
          WHEN 'day' THEN NULL;
          WHEN 'month' THEN d := 1;
          WHEN 'year' THEN mo := 1; d := 1;
          ELSE RETURN NULL;
        END CASE;
      ELSE                                                  -- 'weekday N': forward to day N (0 = Sunday)
        IF NOT vhms THEN                                    -- computeHMS
          IF NOT vjd THEN                                   -- computeJD
            jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
            IF jd IS NULL THEN RETURN NULL; END IF;
            vjd := true;
          END IF;
          x := (jd + 43200000) % 86400000;
          h := x / 3600000; mi := x / 60000 % 60; s := (x % 60000) / 1000::float8; vhms := true; raw := false;
        END IF;
        tz := 0;                                            -- dropped, not applied, as SQLite does
        jd := kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, 0);
        IF jd IS NULL THEN RETURN NULL; END IF;
        vjd := true;
        x := ((jd + 129600000) / 86400000) % 7;
        IF x > r THEN x := x - 7; END IF;
        jd := jd + (r::int - x) * 86400000; vymd := false; vhms := false;
      END IF;

    ELSIF m ~ '^[+-][0-9]{4,5}-' OR m ~ '^[+-]?[0-9]{2}:' THEN
      -- '±YYYY-MM-DD[ HH:MM[:SS[.FFF]]]': add years and months on the calendar, then days and a time;
      -- '±HH:MM[:SS[.FFF]]': add a time
      sg := CASE WHEN left(m, 1) = '-' THEN -1 ELSE 1 END;
      t := NULL;
      IF m ~ '^[+-][0-9]{4,5}-' THEN
        i := length(substring(m FROM '^.([0-9]+)'));        -- year digits
        IF m !~ '^.[0-9]{4,5}-[0-9]{2}-[0-9]{2}' OR i = 5 AND substr(m, 2, 5)::int > 14712 THEN RETURN NULL; END IF;
        c := substr(m, i + 8);                              -- after the day
        IF c <> '' THEN
          t := CASE WHEN c ~ '^[ \t\n\v\f\r][0-9]' THEN kiln_strftime_hms(substr(c, 2)) END;
          IF t IS NULL THEN RETURN NULL; END IF;
        END IF;
        IF substr(m, i + 3, 2)::int > 11 OR substr(m, i + 6, 2)::int > 30 THEN RETURN NULL; END IF;
        IF NOT vymd THEN                                    -- computeYMD (no date: 2000-01-01)
          a := CASE WHEN vjd THEN kiln_strftime_ymd(jd) ELSE ARRAY[2000, 1, 1] END;
          IF a IS NULL THEN RETURN NULL; END IF;
          y := a[1]; mo := a[2]; d := a[3];
          vymd := true;
        END IF;
        IF NOT vhms THEN                                    -- computeHMS
          IF NOT vjd THEN                                   -- computeJD
            jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
            IF jd IS NULL THEN RETURN NULL; END IF;
            vjd := true;
          END IF;
          x := (jd + 43200000) % 86400000;
          h := x / 3600000; mi := x / 60000 % 60; s := (x % 60000) / 1000::float8; vhms := true; raw := false;
        END IF;
        y := y + sg * substr(m, 2, i)::int;
        mo := mo + sg * substr(m, i + 3, 2)::int;
        x := CASE WHEN mo > 0 THEN (mo - 1) / 12 ELSE (mo - 12) / 12 END;
        y := y + x; mo := mo - x * 12;
        nfloor := greatest(0, d - CASE WHEN mo = 2 THEN 28 + (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0))::int
                                       WHEN mo IN (4, 6, 9, 11) THEN 30 ELSE 31 END);
        jd := kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz);
        IF jd IS NULL THEN RETURN NULL; END IF;
        vjd := true; vymd := false; vhms := false; tz := 0;
        jd := jd + sg * substr(m, i + 6, 2)::int * 86400000::bigint;
      ELSE
        t := kiln_strftime_hms(ltrim(m, '+-'));
        IF t IS NULL THEN RETURN NULL; END IF;
      END IF;
      IF t IS NOT NULL THEN                                 -- the time, as a time of day (+24:00 adds nothing)
        x := ((t[1] * 3600000 + t[2] * 60000 + trunc(t[3] * 1000 + 0.5) - t[4] * 60000)::bigint % 86400000 + 86400000) % 86400000;
        IF NOT vjd THEN                                     -- computeJD
          jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
          IF jd IS NULL THEN RETURN NULL; END IF;
          vjd := true; IF tz <> 0 THEN vymd := false; vhms := false; tz := 0; is_utc := true; END IF;
        END IF;
        jd := jd + sg * x; vymd := false; vhms := false;
      END IF;

    ELSIF m ~ '^[-+0-9][^: \t\n\v\f\r]*[ \t\n\v\f\r]' THEN  -- 'NNN unit'
      c := substring(lm FROM '^[^ \t\n\v\f\r]+');
      r := kiln_strftime_num(c);
      c := ltrim(substr(lm, length(c) + 1), E' \t\n\x0b\f\r');
      IF r IS NULL OR length(c) NOT BETWEEN 3 AND 10 THEN RETURN NULL; END IF;
      IF right(c, 1) = 's' THEN c := left(c, -1); END IF;
      CASE c                                                -- SQLite's limits, which are floats
        WHEN 'second' THEN lim := 464269992787968; xf := 1;
        WHEN 'minute' THEN lim := 7737900007424; xf := 60;
        WHEN 'hour' THEN lim := 128969998336; xf := 3600;
        WHEN 'day' THEN lim := 5373485; xf := 86400;
        WHEN 'month' THEN lim := 176546; xf := 2592000;
        WHEN 'year' THEN lim := 14713; xf := 31536000;
        ELSE RETURN NULL;
      END CASE;
      IF NOT vjd THEN                                       -- computeJD
        jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
        IF jd IS NULL THEN RETURN NULL; END IF;
        vjd := true; IF tz <> 0 THEN vymd := false; vhms := false; tz := 0; is_utc := true; END IF;
      END IF;
      IF NOT (r > -lim AND r < lim) THEN RETURN NULL; END IF;
      nfloor := 0;
      IF c IN ('month', 'year') THEN                        -- whole months and years on the calendar
        IF NOT vymd THEN
          a := kiln_strftime_ymd(jd);
          IF a IS NULL THEN RETURN NULL; END IF;
          y := a[1]; mo := a[2]; d := a[3]; vymd := true;
        END IF;
        IF NOT vhms THEN
          x := (jd + 43200000) % 86400000;
          h := x / 3600000; mi := x / 60000 % 60; s := (x % 60000) / 1000::float8; vhms := true; raw := false;
        END IF;
        IF c = 'month' THEN mo := mo + trunc(r); ELSE y := y + trunc(r); END IF;
        x := CASE WHEN mo > 0 THEN (mo - 1) / 12 ELSE (mo - 12) / 12 END;
        y := y + x; mo := mo - x * 12;
        nfloor := greatest(0, d - CASE WHEN mo = 2 THEN 28 + (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0))::int
                                       WHEN mo IN (4, 6, 9, 11) THEN 30 ELSE 31 END);
        r := r - trunc(r);                                  -- the fraction: 30-day months, 365-day years
        jd := kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz);
        IF jd IS NULL THEN RETURN NULL; END IF;
      END IF;
      jd := jd + trunc(r * 1000 * xf + CASE WHEN r < 0 THEN -0.5 ELSE 0.5 END);
      vymd := false; vhms := false; tz := 0;

    ELSE
      RETURN NULL;                                          -- not a modifier
    END IF;
  END LOOP;

  -- the end of isDate(): a valid Julian day; a lone 'YYYY-MM-DD' is normalised (2023-02-31 -> 2023-03-03)
  IF NOT vjd THEN                                           -- computeJD
    jd := CASE WHEN NOT raw THEN kiln_strftime_jd(vymd, y, mo, d, vhms, h, mi, s, tz) END;
    IF jd IS NULL THEN RETURN NULL; END IF;
    IF tz <> 0 THEN vymd := false; vhms := false; END IF;
  END IF;
  IF jd NOT BETWEEN 0 AND 464269060799999 THEN RETURN NULL; END IF;
  IF idx = 0 AND vymd AND d > 28 THEN vymd := false; END IF;
  IF NOT vymd THEN a := kiln_strftime_ymd(jd); y := a[1]; mo := a[2]; d := a[3]; END IF;
  IF NOT vhms THEN
    x := (jd + 43200000) % 86400000;
    h := x / 3600000; mi := x / 60000 % 60; s := (x % 60000) / 1000::float8;
  END IF;

  -- strftimeFunc(): each '%' starts a part whose first character is the conversion
  parts := string_to_array(fmt, '%');
  res := coalesce(parts[1], '');                           -- ('' splits into no parts)
  i := 2;
  WHILE i <= cardinality(parts) LOOP
    c := left(parts[i], 1);
    IF c = '' THEN                                          -- '%%', or a '%' at the end: NULL
      IF i = cardinality(parts) THEN RETURN NULL; END IF;
      res := res || '%' || parts[i + 1];
      i := i + 2;
      CONTINUE;
    END IF;
    IF c IN ('G', 'g', 'V') THEN                            -- ISO weeks: the Thursday of this one
      x := jd + (3 - ((jd + 43200000) / 86400000) % 7) * 86400000::bigint;
      a := coalesce(kiln_strftime_ymd(x), '{0}');
    ELSIF c = 'f' THEN                                      -- printf("%06.3f"); ms precision is the usual case
      v := CASE WHEN abs(s * 1000 - round(s * 1000)) < 1e-6 THEN round(s * 1000) / 1000
                ELSE kiln_strftime_round(least(s, 59.999::float8), 3, false) END;
    ELSIF c = 'J' THEN                                      -- printf("%.16g")
      v := kiln_strftime_round(jd / 86400000::float8, 16, true);
      yd := length(substring(v::text FROM '^0\.(0*)')) + 1;   -- the exponent, when below 1e-4
    END IF;
    res := res || CASE c
      WHEN 'd' THEN lpad(d::text, 2, '0')
      WHEN 'e' THEN lpad(d::text, 2)
      WHEN 'f' THEN to_char(v, 'FM00.000')
      WHEN 'F' THEN kiln_strftime_pad(y, 4) || '-' || lpad(mo::text, 2, '0') || '-' || lpad(d::text, 2, '0')
      WHEN 'G' THEN kiln_strftime_pad(a[1], 4)
      WHEN 'g' THEN kiln_strftime_pad(a[1] % 100, 2)
      WHEN 'H' THEN lpad(h::text, 2, '0')
      WHEN 'k' THEN lpad(h::text, 2)
      WHEN 'I' THEN lpad((CASE WHEN h > 12 THEN h - 12 WHEN h = 0 THEN 12 ELSE h END)::text, 2, '0')
      WHEN 'l' THEN lpad((CASE WHEN h > 12 THEN h - 12 WHEN h = 0 THEN 12 ELSE h END)::text, 2)
      WHEN 'j' THEN lpad(((jd - kiln_strftime_jd(true, y, 1, 1, true, h, mi, s, 0) + 43200000) / 86400000 + 1)::text, 3, '0')
      WHEN 'J' THEN CASE
        WHEN v = 0 THEN '0'
        WHEN v >= 0.0001 THEN rtrim(rtrim(v::text, '0'), '.')
        ELSE rtrim(rtrim((v * ('1e' || yd)::numeric)::text, '0'), '.') || 'e-' || lpad(yd::text, 2, '0') END
      WHEN 'm' THEN lpad(mo::text, 2, '0')
      WHEN 'M' THEN lpad(mi::text, 2, '0')
      WHEN 'p' THEN CASE WHEN h >= 12 THEN 'PM' ELSE 'AM' END
      WHEN 'P' THEN CASE WHEN h >= 12 THEN 'pm' ELSE 'am' END
      WHEN 'R' THEN lpad(h::text, 2, '0') || ':' || lpad(mi::text, 2, '0')
      WHEN 's' THEN CASE WHEN subsec THEN round((jd - 210866760000000) / 1000::numeric, 3)::text
                         ELSE (jd / 1000 - 210866760000)::text END
      WHEN 'S' THEN lpad(trunc(s)::text, 2, '0')
      WHEN 'T' THEN lpad(h::text, 2, '0') || ':' || lpad(mi::text, 2, '0') || ':' || lpad(trunc(s)::text, 2, '0')
      WHEN 'u' THEN (6 + (jd + 129600000) / 86400000 % 7) % 7 + 1 || ''
      WHEN 'w' THEN (jd + 129600000) / 86400000 % 7 || ''
      WHEN 'U' THEN lpad(((jd - kiln_strftime_jd(true, y, 1, 1, true, h, mi, s, 0) + 43200000) / 86400000
                          - (jd + 129600000) / 86400000 % 7 + 7) / 7 || '', 2, '0')
      WHEN 'V' THEN lpad(((x - kiln_strftime_jd(true, a[1], 1, 1, true, h, mi, s, 0) + 43200000) / 86400000 / 7 + 1)::text, 2, '0')
      WHEN 'W' THEN lpad(((jd - kiln_strftime_jd(true, y, 1, 1, true, h, mi, s, 0) + 43200000) / 86400000
                          - (jd + 43200000) / 86400000 % 7 + 7) / 7 || '', 2, '0')
      WHEN 'Y' THEN kiln_strftime_pad(y, 4)
    END || substr(parts[i], 2);
    IF res IS NULL THEN RETURN NULL; END IF;                -- an unknown conversion
    i := i + 1;
  END LOOP;
  RETURN res;
END $$;

-- The call shapes: a text value (untyped parameters and NULL resolve to this one), a number (integer and
-- numeric columns too), and a boolean, which SQLite stores as 0 or 1.
CREATE OR REPLACE FUNCTION kiln_strftime(fmt text, val text, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT kiln_strftime_eval(fmt, val, NULL, mods) $$;

CREATE OR REPLACE FUNCTION kiln_strftime(fmt text, val double precision, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT kiln_strftime_eval(fmt, NULL, val, mods) $$;

CREATE OR REPLACE FUNCTION kiln_strftime(fmt text, val boolean, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT kiln_strftime_eval(fmt, NULL, val::int, mods) $$;
