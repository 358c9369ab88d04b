/* placeholder: grid */
