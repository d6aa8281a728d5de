DROP TABLE oauth_links;
DROP TABLE oauth_authorizations;
