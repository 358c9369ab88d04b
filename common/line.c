/* placeholder: line */
