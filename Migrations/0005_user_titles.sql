-- The basic profile's own fields (`PUT /api/v1/users/me`): a job title and a location, NULL until set and again once
-- cleared (never ''). Lengths in code points, as PostgreSQL's length() counts them and UpdateUserRequest checks them.
ALTER TABLE users
    ADD COLUMN current_title text,
    ADD COLUMN location text,
    ADD CONSTRAINT users_current_title_length CHECK (length(current_title) BETWEEN 1 AND 100),
    ADD CONSTRAINT users_location_length CHECK (length(location) BETWEEN 1 AND 100);
