/* placeholder: json */
