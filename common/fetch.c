/* placeholder: fetch */
