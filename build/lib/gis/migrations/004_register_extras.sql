-- The register's own rules: a person's birth date and sex must agree with the ID number
-- (GB 11643: digits 7-14 are the birth date, the 17th is odd for men), whoever writes the row.
-- make_date and integer casts are immutable, unlike to_date, so they are fit for a CHECK.
ALTER TABLE person
    ADD CONSTRAINT person_birth_date_matches_id_number CHECK (
        id_number IS NULL OR birth_date IS NULL
        OR birth_date = make_date(substr(id_number, 7, 4)::int, substr(id_number, 11, 2)::int,
                                  substr(id_number, 13, 2)::int)),
    ADD CONSTRAINT person_sex_matches_id_number CHECK (
        id_number IS NULL OR sex IS NULL
        OR sex = CASE WHEN substr(id_number, 17, 1)::int % 2 = 1 THEN 'M' ELSE 'F' END);

-- The register is listed per grid and community and filtered by tag; these back the drill-down lists.
CREATE INDEX person_residence_idx ON person (residence) WHERE residence = 'floating';
CREATE INDEX person_poverty_idx ON person (poverty) WHERE poverty IS NOT NULL;
CREATE INDEX household_unplaced_idx ON household (placement) WHERE placement <> 'inside';
