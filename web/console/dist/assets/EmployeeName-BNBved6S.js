import{Q as e}from"./index-D5E_n7tu.js";import{a as r}from"./directory-BL3OE4y7.js";function a({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{a as E};
